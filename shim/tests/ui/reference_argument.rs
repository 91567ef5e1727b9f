use ccaas_shim::contract::{contract, Context};

#[derive(Default)]
pub struct Assets;

#[contract]
impl Assets {
    #[transaction]
    async fn read_asset(&self, _ctx: &Context<'_>, id: &str) -> String {
        id.to_string()
    }
}

fn main() {}
