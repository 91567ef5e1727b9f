use ccaas_shim::contract::{contract, Context};

#[derive(Default)]
pub struct Assets;

#[derive(Default)]
pub struct Data;

#[contract]
impl Assets {
    #[transaction]
    async fn read_asset(&self, _ctx: &Context<'_>, id: String) -> String {
        id
    }

    #[transaction]
    async fn write_asset(&self, _ctx: &Context<'_, Data>, id: String) -> String {
        id
    }
}

fn main() {}
