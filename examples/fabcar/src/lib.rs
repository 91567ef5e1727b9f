//! # fabcar
//!
//! fabric-samples' `fabcar` chaincode (`chaincode/fabcar/go`) on the contract API: the same
//! transactions, arguments, JSON bytes and error texts as the Go sample.
//!
//! Cars on the ledger are read with serde, which unlike Go's `json.Unmarshal` matches keys
//! case-sensitively: only malformed data already on the ledger is answered differently.
#![forbid(unsafe_code)]

use ccaas_shim::prelude::*;
use ccaas_shim::Chaincode;
use serde::{Deserialize, Serialize};

/// A car, stored as JSON under its car number (`CAR0`, `CAR1`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(default)]
pub struct Car {
    /// The manufacturer.
    pub make: String,
    /// The model.
    pub model: String,
    /// The colour.
    pub colour: String,
    /// The current owner.
    pub owner: String,
}

/// One row of `QueryAllCars`.
#[derive(Debug, Clone, Serialize, Object)]
#[serde(rename_all = "PascalCase")]
pub struct QueryResult {
    /// The car number.
    pub key: String,
    /// The car.
    pub record: Car,
}

fn car(make: &str, model: &str, colour: &str, owner: &str) -> Car {
    Car { make: make.into(), model: model.into(), colour: colour.into(), owner: owner.into() }
}

/// The contract. `compat = "go"` answers argument errors with contract-api-go's texts.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmartContract;

#[contract(name = "SmartContract", rename_all = "GoPascalCase", compat = "go")]
impl SmartContract {
    /// Writes ten cars, `CAR0` to `CAR9`.
    #[transaction]
    pub async fn init_ledger(&self, ctx: &Context<'_>) -> Result<()> {
        let cars = [
            car("Toyota", "Prius", "blue", "Tomoko"),
            car("Ford", "Mustang", "red", "Brad"),
            car("Hyundai", "Tucson", "green", "Jin Soo"),
            car("Volkswagen", "Passat", "yellow", "Max"),
            car("Tesla", "S", "black", "Adriana"),
            car("Peugeot", "205", "purple", "Michel"),
            car("Chery", "S22L", "white", "Aarav"),
            car("Fiat", "Punto", "violet", "Pari"),
            car("Tata", "Nano", "indigo", "Valeria"),
            car("Holden", "Barina", "brown", "Shotaro"),
        ];
        for (i, car) in cars.iter().enumerate() {
            let put = ctx.stub().put_state(&format!("CAR{i}"), ccaas_shim::json::to_vec(car)?).await;
            put.map_err(|e| failed!("Failed to put to world state. {e}"))?;
        }
        Ok(())
    }

    /// Writes a car under `car_number`, replacing any car there.
    #[transaction]
    pub async fn create_car(
        &self,
        ctx: &Context<'_>,
        car_number: String,
        make: String,
        model: String,
        colour: String,
        owner: String,
    ) -> Result<()> {
        let car = Car { make, model, colour, owner };
        Ok(ctx.stub().put_state(&car_number, ccaas_shim::json::to_vec(&car)?).await?)
    }

    /// Returns the car stored under `car_number`.
    #[transaction(evaluate)]
    pub async fn query_car(&self, ctx: &Context<'_>, car_number: String) -> Result<Car> {
        let json = ctx.stub().get_state(&car_number).await;
        let json = json.map_err(|e| failed!("Failed to read from world state. {e}"))?;
        let Some(json) = json else { bail!("{car_number} does not exist") };
        // Like the Go sample, which ignores json.Unmarshal's error.
        Ok(serde_json::from_slice(&json).unwrap_or_default())
    }

    /// Every car, in key order.
    #[transaction(evaluate)]
    pub async fn query_all_cars(&self, ctx: &Context<'_>) -> Result<Vec<QueryResult>> {
        let mut rows = ctx.stub().get_state_by_range("", "").await?;
        let mut results = Vec::new();
        while let Some(row) = rows.next().await? {
            let record = serde_json::from_slice(&row.value).unwrap_or_default();
            results.push(QueryResult { key: row.key, record });
        }
        Ok(results)
    }

    /// Sets a car's owner.
    #[transaction]
    pub async fn change_car_owner(&self, ctx: &Context<'_>, car_number: String, new_owner: String) -> Result<()> {
        let mut car = self.query_car(ctx, car_number.clone()).await?;
        car.owner = new_owner;
        Ok(ctx.stub().put_state(&car_number, ccaas_shim::json::to_vec(&car)?).await?)
    }
}

/// The chaincode: [`SmartContract`], with one text as fabric-contract-api-go v1.2.0 (the version
/// the Go sample pinned) wrote it, `Incorrect number of params` (v2, which `compat = "go"`
/// reproduces, writes a lowercase `i`). fabcar's parameters are all strings, so no conversion
/// error, whose v1 texts would differ as well, can reach its clients: this is the one to fix.
#[derive(Debug)]
pub struct FabCar(ContractChaincode);

impl Default for FabCar {
    fn default() -> Self {
        FabCar(ContractChaincode::new().contract(SmartContract))
    }
}

impl Chaincode for FabCar {
    async fn init(&self, stub: &ChaincodeStub) -> Response {
        v1_texts(self.0.init(stub).await)
    }

    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        v1_texts(self.0.invoke(stub).await)
    }
}

fn v1_texts(mut response: Response) -> Response {
    if let Some(rest) = response.message.strip_prefix("incorrect number of params") {
        response.message = format!("Incorrect number of params{rest}");
    }
    response
}
