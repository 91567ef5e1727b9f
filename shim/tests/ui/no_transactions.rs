use ccaas_shim::contract::{contract, Context};

#[derive(Default)]
pub struct Assets;

#[contract]
impl Assets {
    async fn helper(&self, _ctx: &Context<'_>) {}
}

fn main() {}
