//! A fungible token, ported from the Go sample token-erc-20 (fabric-samples) to the contract API:
//! Go's transaction names (`rename_all = "GoPascalCase"`), `?` on every stub and identity call,
//! a Transfer event per movement, and an access rule: only Org1MSP may mint.

use ccaas_shim::prelude::*;
use serde::Serialize;

/// The organization whose clients may mint (Go: `if clientMSPID != "Org1MSP"`).
pub const MINTER_MSP: &str = "Org1MSP";
/// The object type of balance keys: `balance<NUL>account<NUL>`.
const BALANCE: &str = "balance";
const TOTAL_SUPPLY: &str = "totalSupply";

/// The payload of the `Transfer` event (Go: `event{from, to, value}`).
#[derive(Serialize)]
struct Transfer<'a> {
    from: &'a str,
    to: &'a str,
    value: u64,
}

#[derive(Default)]
pub struct Token;

#[contract(rename_all = "GoPascalCase")]
impl Token {
    /// Creates `amount` tokens in the caller's account. Only clients of Org1MSP may mint.
    #[transaction]
    async fn mint(&self, ctx: &Context<'_>, amount: u64) -> Result<()> {
        let caller = ctx.client_identity()?;
        if caller.msp_id() != MINTER_MSP {
            return Err(ContractError::failed("client is not authorized to mint new tokens"));
        }
        if amount == 0 {
            return Err(ContractError::failed("mint amount must be a positive integer"));
        }
        let minter = caller.id()?;
        let balance = self.balance(ctx, &minter).await?;
        self.set_balance(ctx, &minter, add(balance, amount)?).await?;
        let supply = read_u64(ctx, TOTAL_SUPPLY).await?;
        ctx.stub().put_state(TOTAL_SUPPLY, add(supply, amount)?.to_string()).await?;
        emit(ctx, "0x0", &minter, amount)
    }

    /// Moves `amount` tokens from the caller's account to `recipient` (a client id).
    #[transaction]
    async fn transfer(&self, ctx: &Context<'_>, recipient: String, amount: u64) -> Result<()> {
        let sender = ctx.client_identity()?.id()?;
        if sender == recipient {
            return Err(ContractError::failed("cannot transfer to and from same client account"));
        }
        let from = self.balance(ctx, &sender).await?;
        if from < amount {
            return Err(ContractError::failed(format!("client account {sender} has insufficient funds")));
        }
        let to = self.balance(ctx, &recipient).await?;
        self.set_balance(ctx, &sender, from - amount).await?;
        self.set_balance(ctx, &recipient, add(to, amount)?).await?;
        emit(ctx, &sender, &recipient, amount)
    }

    /// The balance of `account` (a client id).
    #[transaction(evaluate)]
    async fn balance_of(&self, ctx: &Context<'_>, account: String) -> Result<u64> {
        self.balance(ctx, &account).await
    }

    /// The caller's balance.
    #[transaction(evaluate)]
    async fn client_account_balance(&self, ctx: &Context<'_>) -> Result<u64> {
        self.balance(ctx, &ctx.client_identity()?.id()?).await
    }

    /// The caller's client id (Go: `ctx.GetClientIdentity().GetID()`), to receive transfers.
    #[transaction(evaluate)]
    async fn client_account_id(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(ctx.client_identity()?.id()?)
    }

    /// How many tokens exist.
    #[transaction(evaluate)]
    async fn total_supply(&self, ctx: &Context<'_>) -> Result<u64> {
        read_u64(ctx, TOTAL_SUPPLY).await
    }

    async fn balance(&self, ctx: &Context<'_>, account: &str) -> Result<u64> {
        read_u64(ctx, &ctx.stub().create_composite_key(BALANCE, &[account])?).await
    }

    async fn set_balance(&self, ctx: &Context<'_>, account: &str, amount: u64) -> Result<()> {
        let key = ctx.stub().create_composite_key(BALANCE, &[account])?;
        Ok(ctx.stub().put_state(&key, amount.to_string()).await?)
    }
}

/// The number stored at `key`, 0 if there is none.
async fn read_u64(ctx: &Context<'_>, key: &str) -> Result<u64> {
    match ctx.stub().get_state(key).await? {
        Some(bytes) => Ok(serde_json::from_slice(&bytes)?),
        None => Ok(0),
    }
}

fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| ContractError::failed("the amount overflows the balance"))
}

fn emit(ctx: &Context<'_>, from: &str, to: &str, value: u64) -> Result<()> {
    Ok(ctx.stub().set_event("Transfer", serde_json::to_vec(&Transfer { from, to, value })?)?)
}
