use ccaas_shim::contract::{contract, Context};

#[derive(Default)]
pub struct Assets;

#[contract]
impl Assets {
    #[transaction(query)]
    async fn read_asset(&self, _ctx: &Context<'_>, id: String) -> String {
        id
    }
}

fn main() {}
