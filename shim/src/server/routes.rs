//! One port, two gRPC services: each request goes to the chaincode service or the health service
//! by the service name in its path (`/<package>.<Service>/<Method>`), as tonic's router does,
//! without the router's dependencies (axum and its own). Any other path gets gRPC status
//! `UNIMPLEMENTED`, as from tonic's router.

use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::Status;
use tower_service::Service;

/// The chaincode service `A` and the health service `B`, served together.
#[derive(Clone)]
pub(crate) struct Routes<A, B> {
    pub(crate) chaincode: A,
    pub(crate) health: B,
}

type ResponseFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

impl<A, B> Service<Request<Body>> for Routes<A, B>
where
    A: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + NamedService + Clone + Send + 'static,
    A::Future: Send + 'static,
    B: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + NamedService + Clone + Send + 'static,
    B::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    /// Always ready: readiness is awaited per request, on the service the request goes to.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> ResponseFuture {
        let service =
            request.uri().path().strip_prefix('/').and_then(|path| path.split_once('/')).map(|(name, _)| name);
        if service == Some(A::NAME) {
            Box::pin(call(self.chaincode.clone(), request))
        } else if service == Some(B::NAME) {
            Box::pin(call(self.health.clone(), request))
        } else {
            Box::pin(std::future::ready(Ok(Status::unimplemented("").into_http())))
        }
    }
}

/// Waits until `service` is ready, then calls it.
async fn call<S: Service<Request<Body>>>(mut service: S, request: Request<Body>) -> Result<S::Response, S::Error> {
    poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service that answers with its name in a header.
    #[derive(Clone)]
    struct Named<const HEALTH: bool>;

    impl<const HEALTH: bool> NamedService for Named<HEALTH> {
        const NAME: &'static str = if HEALTH { "grpc.health.v1.Health" } else { "protos.Chaincode" };
    }

    impl<const HEALTH: bool> Service<Request<Body>> for Named<HEALTH> {
        type Response = Response<Body>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response<Body>, Infallible>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _request: Request<Body>) -> Self::Future {
            let mut response = Response::new(Body::default());
            response.headers_mut().insert("served-by", Self::NAME.parse().unwrap());
            std::future::ready(Ok(response))
        }
    }

    async fn route(path: &str) -> Response<Body> {
        let mut routes = Routes { chaincode: Named::<false>, health: Named::<true> };
        let request = Request::post(path).body(Body::default()).unwrap();
        routes.call(request).await.unwrap()
    }

    #[tokio::test]
    async fn requests_go_to_the_service_their_path_names() {
        for (path, service) in [
            ("/protos.Chaincode/Connect", "protos.Chaincode"),
            ("/grpc.health.v1.Health/Check", "grpc.health.v1.Health"),
            ("/grpc.health.v1.Health/Watch", "grpc.health.v1.Health"),
        ] {
            assert_eq!(route(path).await.headers()["served-by"], service, "{path}");
        }
    }

    #[tokio::test]
    async fn other_paths_are_unimplemented() {
        for path in ["/protos.ChaincodeSupport/Register", "/protos.Chaincode", "/", "/grpc.health.v1.Health2/Check"] {
            let response = route(path).await;
            assert!(!response.headers().contains_key("served-by"), "{path}");
            assert_eq!(response.headers()["grpc-status"], "12", "{path}: UNIMPLEMENTED");
        }
    }
}
