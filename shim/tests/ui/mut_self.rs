use ccaas_shim::contract::{contract, Context};

#[derive(Default)]
pub struct Assets;

#[contract]
impl Assets {
    #[transaction]
    async fn create_asset(&mut self, _ctx: &Context<'_>, id: String) -> String {
        id
    }
}

fn main() {}
