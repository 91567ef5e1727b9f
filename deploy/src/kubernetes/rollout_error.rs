//! What goes wrong applying manifests, rolling them out or reading the cluster: [`RolloutError`],
//! and the API server's errors in plain words, with what to do ([`explain`]).

use std::collections::BTreeMap;

use crate::render::{MANAGED_BY_LABEL, MANAGER};

/// How errors name the cluster.
pub(crate) const API_SERVER: &str = "the Kubernetes API server (of the kubeconfig)";

/// A failure to apply or to roll out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RolloutError {
    /// No usable cluster configuration.
    #[error("no Kubernetes cluster to talk to: {0}")]
    Config(String),
    /// The API server refused.
    #[error("{what}: {cause}")]
    Api {
        /// What was being done.
        what: String,
        /// The API server's answer.
        cause: String,
    },
    /// The API server could not be reached, or did not answer in time.
    #[error("{what}: {cause}")]
    Unreachable {
        /// What was being done.
        what: String,
        /// Why, with what to check.
        cause: String,
    },
    /// Objects that [`apply`](crate::rollout::apply) would change exist and are not ccaas-deploy's;
    /// nothing was applied.
    #[error("{}", not_ours_text(.0))]
    NotOurs(Vec<Foreign>),
    /// The rollout did not complete.
    #[error("deployment {namespace}/{name} did not roll out: {why}{}", pods_text(.pods))]
    Failed {
        /// Namespace.
        namespace: String,
        /// Deployment name.
        name: String,
        /// Why (deadline, condition).
        why: String,
        /// Each pod's reason, by pod name.
        pods: BTreeMap<String, String>,
    },
    /// hlf-operator failed, or did not get, to make the Deployment of a `FabricChaincode`
    /// (see [`crate::hlf`]).
    #[error("FabricChaincode {namespace}/{name} did not roll out: {why}")]
    Operator {
        /// Namespace.
        namespace: String,
        /// The resource's name.
        name: String,
        /// The operator's message, or what it did not do.
        why: String,
    },
}

fn pods_text(pods: &BTreeMap<String, String>) -> String {
    if pods.is_empty() {
        return "; no pods were created (check the ReplicaSet's events: quota, admission, service account)".into();
    }
    pods.iter().map(|(p, r)| format!("\n  pod {p}: {r}")).collect()
}

/// An object with the kind and name of one ccaas-deploy renders, that ccaas-deploy did not make:
/// its `app.kubernetes.io/managed-by` label is not `ccaas-deploy`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Foreign {
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Who seems to own it: its managed-by label, else the field managers that wrote it.
    pub owner: String,
}

impl std::fmt::Display for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{} ({})", self.kind, self.namespace, self.name, self.owner)
    }
}

fn not_ours_text(objects: &[Foreign]) -> String {
    let mut s = format!(
        "nothing applied: ccaas-deploy changes only objects labelled {MANAGED_BY_LABEL}: {MANAGER}, and these \
         exist without that label:"
    );
    let mut by_namespace = BTreeMap::<&str, Vec<String>>::new();
    for o in objects {
        s.push_str(&format!("\n  {o}"));
        by_namespace.entry(&o.namespace).or_default().push(format!("{}/{}", o.kind.to_lowercase(), o.name));
    }
    let commands: Vec<String> =
        by_namespace.iter().map(|(ns, objs)| format!("kubectl delete -n {ns} {}", objs.join(" "))).collect();
    s.push_str(&format!(
        "\nrename ours (another --name, or chaincode.name in the up file), delete theirs if nothing needs them \
         ({}), or pass --force-conflicts to take them over",
        commands.join("; ")
    ));
    if objects.iter().any(|o| o.kind == "Secret") {
        s.push_str(
            "; to serve with a TLS Secret another tool keeps (e.g. cert-manager's), name it with --tls-secret \
             (kubernetes.tls.secret in the up file) instead of giving TLS files",
        );
    }
    s
}

/// A Kubernetes API error while doing `what`, as a sentence with the fix (see [`explain`]).
pub(crate) fn api_error(what: impl Into<String>, e: kube::Error) -> RolloutError {
    match e {
        kube::Error::Api(_) => RolloutError::Api { what: what.into(), cause: explain(&e) },
        _ => RolloutError::Unreachable { what: what.into(), cause: explain(&e) },
    }
}

/// The API server's answer in plain words, with what to do: a missing namespace, a forbidden
/// verb (which user may not do what on which resource), a conflict, bad credentials; other
/// answers as the server gave them.
pub fn explain(e: &kube::Error) -> String {
    let kube::Error::Api(s) = e else {
        return format!("{e} (is the API server in the kubeconfig up and reachable?)");
    };
    // `after "marker"`: the quoted value after `marker` in the message.
    let quoted = |marker: &str| {
        let rest = &s.message[s.message.find(marker)? + marker.len()..];
        let rest = rest.strip_prefix('"')?;
        Some(rest[..rest.find('"')?].to_string())
    };
    let details_kind = s.details.as_ref().map(|d| d.kind.as_str()).unwrap_or_default();
    match (s.code, s.reason.as_str()) {
        (404, _) if details_kind == "namespaces" || s.message.starts_with("namespaces \"") => {
            let ns =
                s.details.as_ref().map(|d| d.name.clone()).filter(|n| !n.is_empty()).or_else(|| quoted("namespaces "));
            let ns = ns.unwrap_or_default();
            format!(
                "namespace {ns} does not exist: create it (kubectl create namespace {ns}), or pass --namespace \
                 (kubernetes.namespace in the up file)"
            )
        }
        (403, _) => {
            let (user, verb, resource) = (quoted("User "), quoted("cannot "), quoted("resource "));
            let group = quoted("in API group ").filter(|g| !g.is_empty());
            let namespace = quoted("in the namespace ");
            match (
                user,
                verb.or_else(|| {
                    // `cannot patch resource "x"`: the verb is unquoted.
                    let rest = &s.message[s.message.find("cannot ")? + 7..];
                    Some(rest.split(' ').next()?.to_string())
                }),
                resource,
            ) {
                (Some(user), Some(verb), Some(resource)) => {
                    let resource = match &group {
                        Some(g) => format!("{resource}.{g}"),
                        None => resource,
                    };
                    let scope = namespace.as_ref().map(|n| format!(" in namespace {n}")).unwrap_or_default();
                    let grant = match &namespace {
                        Some(n) => format!(
                            "kubectl create role ccaas-deploy -n {n} --verb=get,list,watch,create,patch,delete \
                             --resource=deployments.apps,services,secrets,pods,events; kubectl create rolebinding \
                             ccaas-deploy -n {n} --role=ccaas-deploy --user={user}"
                        ),
                        None => format!("a ClusterRole and ClusterRoleBinding for {user}"),
                    };
                    format!(
                        "forbidden: user {user} may not {verb} {resource}{scope}: ask a cluster administrator to \
                         grant it (e.g. {grant}), or use a kubeconfig whose user may (--kubeconfig)"
                    )
                }
                _ => format!(
                    "forbidden ({}): the kubeconfig's user lacks the permission; ask a cluster administrator to \
                     grant it, or use a kubeconfig whose user may (--kubeconfig)",
                    s.message
                ),
            }
        }
        (401, _) => format!(
            "the API server does not accept the kubeconfig's credentials ({}): renew them (log in again) or use \
             another kubeconfig (--kubeconfig)",
            s.message
        ),
        (409, "AlreadyExists") => format!(
            "conflict: it was created meanwhile by someone else ({}): run the command again, which then checks \
             whose it is",
            s.message
        ),
        (409, _) if s.message.contains("Apply failed with") => format!(
            "conflict: other field managers own fields that ccaas-deploy sets ({}): pass --force-conflicts to take \
             them over, or change them back with the tool that set them",
            s.message
        ),
        (409, _) => format!(
            "conflict: the object changed while ccaas-deploy worked on it ({}): run the command again",
            s.message
        ),
        _ => format!("the API server answered {} {}: {}", s.code, s.reason, s.message),
    }
}

#[cfg(test)]
mod api_error_tests {
    use super::explain;
    use kube::core::Status;

    fn api(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(Status::failure(message, reason).with_code(code).boxed())
    }

    #[test]
    fn a_missing_namespace() {
        // As kube-apiserver 1.20 answers a server-side apply into a namespace that does not exist.
        let status: Status = serde_json::from_value(serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "namespaces \"fabric\" not found", "reason": "NotFound",
            "details": {"name": "fabric", "kind": "namespaces"}, "code": 404
        }))
        .unwrap();
        let e = kube::Error::Api(status.boxed());
        assert_eq!(
            explain(&e),
            "namespace fabric does not exist: create it (kubectl create namespace fabric), or pass --namespace \
             (kubernetes.namespace in the up file)"
        );
        // Without details, from the message.
        assert!(explain(&api(404, "NotFound", "namespaces \"x\" not found")).starts_with("namespace x does not exist"));
    }

    #[test]
    fn forbidden_names_the_user_the_verb_and_the_resource() {
        let e = api(
            403,
            "Forbidden",
            "deployments.apps \"asset\" is forbidden: User \"system:serviceaccount:ccaas:default\" cannot patch \
             resource \"deployments\" in API group \"apps\" in the namespace \"ccaas\"",
        );
        let text = explain(&e);
        assert!(
            text.starts_with(
                "forbidden: user system:serviceaccount:ccaas:default may not patch deployments.apps in namespace ccaas: \
                 ask a cluster administrator to grant it (e.g. kubectl create role ccaas-deploy -n ccaas"
            ),
            "{text}"
        );
        assert!(text.contains("--user=system:serviceaccount:ccaas:default"), "{text}");
        // The core group is empty: no suffix.
        let e = api(
            403,
            "Forbidden",
            "services \"asset\" is forbidden: User \"alice\" cannot get resource \"services\" in API group \"\" in \
             the namespace \"fabric\"",
        );
        assert!(
            explain(&e).starts_with("forbidden: user alice may not get services in namespace fabric: "),
            "{}",
            explain(&e)
        );
        // An unusual message is kept whole.
        assert!(explain(&api(403, "Forbidden", "no")).starts_with("forbidden (no): the kubeconfig's user lacks"));
    }

    #[test]
    fn conflicts_and_credentials() {
        let ssa = api(409, "Conflict", "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas");
        assert!(explain(&ssa).contains("pass --force-conflicts to take them over"), "{}", explain(&ssa));
        let modified = api(409, "Conflict", "the object has been modified; please apply your changes");
        assert!(explain(&modified).starts_with("conflict: the object changed while ccaas-deploy worked on it"));
        let exists = api(409, "AlreadyExists", "services \"asset\" already exists");
        assert!(explain(&exists).starts_with("conflict: it was created meanwhile by someone else"));
        assert!(
            explain(&api(401, "Unauthorized", "Unauthorized")).contains("does not accept the kubeconfig's credentials")
        );
        assert_eq!(explain(&api(422, "Invalid", "bad")), "the API server answered 422 Invalid: bad");
    }
}
