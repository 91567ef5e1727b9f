use ccaas_shim::contract::{contract, Context};

#[derive(Default)]
pub struct Assets;

#[contract]
impl Assets {
    #[before_transaction]
    async fn check(&self, _ctx: &Context<'_>) {}

    #[before_transaction]
    async fn check_again(&self, _ctx: &Context<'_>) {}

    #[transaction]
    async fn read_asset(&self, _ctx: &Context<'_>, id: String) -> String {
        id
    }
}

fn main() {}
