use ccaas_shim::contract::Context;

#[derive(Default)]
pub struct Assets;

impl Assets {
    #[ccaas_shim::contract::transaction]
    async fn read_asset(&self, _ctx: &Context<'_>, id: String) -> String {
        id
    }
}

fn main() {}
