//! `status`.

use ccaas_deploy::lifecycle::Session;
use ccaas_deploy::up::UpConfig;
use ccaas_deploy::{rollout, status, Error, Kind};
use serde_json::json;

use crate::args::StatusArgs;
use crate::Printer;

/// Exit code: `status` found drift.
pub const EXIT_DRIFT: u8 = 7;

pub async fn run(out: &Printer, a: &StatusArgs, file: Option<&UpConfig>, session: &Session) -> anyhow::Result<u8> {
    let name = match (&a.name, file) {
        (Some(n), _) => n.clone(),
        (None, Some(c)) => c.chaincode.name.clone(),
        (None, None) => anyhow::bail!(Error::Config(
            "status needs the chaincode's name: give -n NAME, or -f with the up config file".into()
        )),
    };
    let mut st = status::fabric(session, &name).await?;
    if a.file.is_some() || a.namespace.is_some() || a.kubeconfig.is_some() {
        let k = file.map(|c| &c.kubernetes);
        let namespace =
            a.namespace.clone().or_else(|| k.and_then(|k| k.namespace.clone())).unwrap_or_else(|| "default".into());
        let kubeconfig = a.kubeconfig.clone().or_else(|| k.and_then(|k| k.kubeconfig.clone()));
        let client = rollout::client(kubeconfig.as_deref()).await?;
        st.kubernetes = Some(status::kubernetes(&client, &namespace, &name).await?);
    }
    let drift = st.drift(a.file.as_deref());
    let mut text = st.lines();
    if drift.is_empty() {
        text.push("consistent: nothing to do".into());
    }
    text.extend(drift.iter().map(|d| format!("drift: {}", d.message)));
    let mut value = serde_json::to_value(&st)?;
    value["drift"] = json!(drift);
    value["consistent"] = json!(drift.is_empty());
    out.result(&text, value);
    if drift.is_empty() {
        return Ok(0);
    }
    let found = drift.iter().map(|d| d.message.as_str()).collect::<Vec<_>>();
    out.failed(Kind::Drift, format!("drift: {}", found.join("; ")), Vec::new());
    Ok(EXIT_DRIFT)
}
