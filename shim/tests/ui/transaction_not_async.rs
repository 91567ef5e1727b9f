use ccaas_shim::contract::{contract, Context};

#[derive(Default)]
pub struct Assets;

#[contract]
impl Assets {
    #[transaction]
    fn read_asset(&self, _ctx: &Context<'_>, id: String) -> String {
        id
    }
}

fn main() {}
