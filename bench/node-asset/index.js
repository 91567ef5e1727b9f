'use strict';
// asset-transfer-basic on fabric-contract-api, for bench/compare.sh: the same functions, JSON bytes
// (fields in alphabetical order, integers as numbers) and error texts as the Go baseline and
// examples/asset-transfer-basic. SmartContract is the only, hence default, contract: function
// names need no prefix.
const { Contract } = require('fabric-contract-api');

// Fixed field order, as Go's json.Marshal writes the struct.
const asset = (a) => ({ AppraisedValue: a.AppraisedValue, Color: a.Color, ID: a.ID, Owner: a.Owner, Size: a.Size });

function toInt(value, index) {
    if (!/^[+-]?\d+$/.test(value)) {
        throw new Error(`Error managing parameter param${index}. Conversion error. Cannot convert passed value ${value} to int`);
    }
    return Number(value);
}

class SmartContract extends Contract {
    constructor() {
        super('SmartContract');
    }

    async InitLedger(ctx) {
        const assets = [
            ['asset1', 'blue', 5, 'Tomoko', 300],
            ['asset2', 'red', 5, 'Brad', 400],
            ['asset3', 'green', 10, 'Jin Soo', 500],
            ['asset4', 'yellow', 10, 'Max', 600],
            ['asset5', 'black', 15, 'Adriana', 700],
            ['asset6', 'white', 15, 'Michel', 800],
        ];
        for (const [ID, Color, Size, Owner, AppraisedValue] of assets) {
            const json = JSON.stringify(asset({ ID, Color, Size, Owner, AppraisedValue }));
            await ctx.stub.putState(ID, Buffer.from(json));
        }
    }

    async CreateAsset(ctx, id, color, size, owner, appraisedValue) {
        const value = asset({ ID: id, Color: color, Size: toInt(size, 2), Owner: owner, AppraisedValue: toInt(appraisedValue, 4) });
        if (await this.AssetExists(ctx, id)) {
            throw new Error(`the asset ${id} already exists`);
        }
        await ctx.stub.putState(id, Buffer.from(JSON.stringify(value)));
    }

    async ReadAsset(ctx, id) {
        const json = await ctx.stub.getState(id);
        if (!json || json.length === 0) {
            throw new Error(`the asset ${id} does not exist`);
        }
        return JSON.stringify(asset(JSON.parse(json.toString())));
    }

    async UpdateAsset(ctx, id, color, size, owner, appraisedValue) {
        const value = asset({ ID: id, Color: color, Size: toInt(size, 2), Owner: owner, AppraisedValue: toInt(appraisedValue, 4) });
        if (!(await this.AssetExists(ctx, id))) {
            throw new Error(`the asset ${id} does not exist`);
        }
        await ctx.stub.putState(id, Buffer.from(JSON.stringify(value)));
    }

    async DeleteAsset(ctx, id) {
        if (!(await this.AssetExists(ctx, id))) {
            throw new Error(`the asset ${id} does not exist`);
        }
        await ctx.stub.deleteState(id);
    }

    async AssetExists(ctx, id) {
        const json = await ctx.stub.getState(id);
        return json !== undefined && json !== null && json.length > 0;
    }

    async TransferAsset(ctx, id, newOwner) {
        const value = JSON.parse(await this.ReadAsset(ctx, id));
        const oldOwner = value.Owner;
        value.Owner = newOwner;
        await ctx.stub.putState(id, Buffer.from(JSON.stringify(value)));
        return oldOwner;
    }

    async GetAllAssets(ctx) {
        const all = [];
        for await (const { value } of ctx.stub.getStateByRange('', '')) {
            all.push(asset(JSON.parse(Buffer.from(value).toString('utf8'))));
        }
        return JSON.stringify(all);
    }
}

module.exports.contracts = [SmartContract];
