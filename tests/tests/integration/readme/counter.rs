use ccaas_shim::prelude::*;

#[derive(Default)]
pub struct Counter;

#[contract(rename_all = "PascalCase")]
impl Counter {
    /// Adds `by` to the counter `key`, emits an `Incremented` event, and returns the new value.
    #[transaction]
    async fn increment(&self, ctx: &Context<'_>, key: String, by: i64) -> Result<i64> {
        let stub = ctx.stub();
        let current: i64 = match stub.get_state(&key).await? {
            Some(bytes) => serde_json::from_slice(&bytes)?,
            None => 0,
        };
        let next = current + by;
        stub.put_state(&key, next.to_string()).await?;
        stub.set_event("Incremented", format!(r#"{{"key":"{key}","value":{next}}}"#))?;
        Ok(next)
    }

    /// The counter `key` (0 if it was never incremented).
    #[transaction(evaluate)]
    async fn get(&self, ctx: &Context<'_>, key: String) -> Result<i64> {
        match ctx.stub().get_state(&key).await? {
            Some(bytes) => Ok(serde_json::from_slice(&bytes)?),
            None => Ok(0),
        }
    }

    /// The caller's client id (Go: `ctx.GetClientIdentity().GetID()`).
    #[transaction(evaluate)]
    async fn whoami(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(ctx.client_identity()?.id()?)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    // Reads CHAINCODE_ID, CHAINCODE_SERVER_ADDRESS and, with the `tls` feature, the TLS
    // variables (see "Running as a service"), logs to stderr (RUST_LOG, default info), serves until SIGTERM, and exits
    // 0 after a graceful shutdown, 2 for a configuration error, 1 if the server fails.
    run_from_env(Counter).await
}
