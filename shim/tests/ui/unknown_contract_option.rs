use ccaas_shim::contract::{contract, Context};

#[derive(Default)]
pub struct Assets;

#[contract(nmae = "AssetContract")]
impl Assets {
    #[transaction]
    async fn read_asset(&self, _ctx: &Context<'_>, id: String) -> String {
        id
    }
}

fn main() {}
