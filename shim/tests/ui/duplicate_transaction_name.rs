use ccaas_shim::contract::{contract, Context};

#[derive(Default)]
pub struct Assets;

#[contract(rename_all = "PascalCase")]
impl Assets {
    #[transaction]
    async fn read_asset(&self, _ctx: &Context<'_>, id: String) -> String {
        id
    }

    #[transaction(evaluate, name = "ReadAsset")]
    async fn read_asset_again(&self, _ctx: &Context<'_>, id: String) -> String {
        id
    }
}

fn main() {}
