//! What to do about the peer's own error messages.

/// A sentence (starting with "; ") telling the user what to do about `message`, or "".
pub fn hint(message: &str) -> String {
    let h = if message.contains("attempted to redefine uncommitted sequence") {
        "this organization already approved exactly this definition and package at that sequence; \
         nothing needs approving (`ccaas-deploy lifecycle` skips it)"
    } else if message.contains("but new definition must be sequence") {
        "commit and readiness take the sequence after the committed one; pass that --sequence \
         (`ccaas-deploy committed` shows the committed one), or let `ccaas-deploy lifecycle` pick it"
    } else if message.contains("attempted to redefine the current committed sequence") {
        "at the committed sequence only the package may change; to change the definition approve the next sequence"
    } else if message.contains("is larger than the next available sequence number")
        || message.contains("is larger than requested sequence")
    {
        "approve the committed sequence (to change only the package) or the one after it"
    } else if message.contains("access denied") || message.contains("is not an admin") || message.contains("Admins") {
        "use an admin identity of the peer's organization (for example the org's Admin user)"
    } else if message.contains("chaincodeType") || message.contains("could not build chaincode") {
        "no external builder on this peer accepts the package's type: the peer's core.yaml must list one under \
         chaincode.externalBuilders (the ccaas builder for ccaas packages, fabric-builder-k8s for k8s ones)"
    } else if message.contains("failed to invoke backing implementation of 'InstallChaincode'") {
        "the peer could not use the package; check it with `ccaas-package inspect` and the peer's log"
    } else if message.contains("has been successfully defined on channel")
        || message.contains("No metadata was found for chaincode")
        || message.contains("no peers available to evaluate chaincode")
    {
        "no peer can run a chaincode of that name on this channel: check the name (-n) and the channel (-C), \
         that it is committed (`ccaas-deploy committed -n NAME`), and that the organizations installed and \
         approved its package (`ccaas-deploy lifecycle` does both)"
    } else if message.contains("could not launch chaincode") {
        "the peer could not reach the chaincode server: is it running, with the package ID as CHAINCODE_ID, at \
         the address in the package's connection.json?"
    } else if message.contains("ENDORSEMENT_POLICY_FAILURE") {
        "not enough organizations endorsed; the other organizations' peers must be reachable from the gateway"
    } else {
        ""
    };
    if h.is_empty() {
        String::new()
    } else {
        format!("; {h}")
    }
}

/// A sentence (starting with "; ") about a transaction validation code, or "".
pub fn invalid(code: &str) -> &'static str {
    match code {
        "ENDORSEMENT_POLICY_FAILURE" => {
            "; the endorsements do not satisfy the endorsement policy: the peers of every organization it \
             requires must endorse (invoke: name them all with --endorsing-org, or leave the choice to the Gateway)"
        }
        "MVCC_READ_CONFLICT" | "PHANTOM_READ_CONFLICT" => {
            "; another transaction changed what this one read before it was committed; submit it again"
        }
        _ => "",
    }
}
