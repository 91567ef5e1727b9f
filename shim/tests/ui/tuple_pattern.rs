use ccaas_shim::contract::{contract, Context};

#[derive(Default)]
pub struct Assets;

#[contract]
impl Assets {
    #[transaction]
    async fn transfer(&self, _ctx: &Context<'_>, (id, owner): (String, String)) -> String {
        format!("{id} {owner}")
    }
}

fn main() {}
