use ccaas_shim::{Chaincode, ChaincodeStub, Response};

struct Hello;

impl Chaincode for Hello {
    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        let (function, args) = stub.function_and_parameters();
        match function.as_str() {
            "put" => stub.put_state(&args[0], args[1].clone()).await.map(|_| "").into(),
            "get" => stub.get_state(&args[0]).await.map(Option::unwrap_or_default).into(),
            other => Response::error(format!("unknown function {other}")),
        }
    }
}
