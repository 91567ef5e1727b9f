//! `grpc.health.v1.Health` on the chaincode's port, for probes: `SERVING` for the whole server
//! (the empty service name) and for `protos.Chaincode` while the server runs, `NOT_SERVING` for
//! both once shutdown begins. Any other name is `NOT_FOUND` ("service not registered"), for
//! `Check` and `Watch` alike, as tonic-health answered; `Watch` sends the current status, then
//! each change.

use std::pin::Pin;

use ccaas_protos::grpc::health::v1::health_check_response::ServingStatus;
use ccaas_protos::grpc::health::v1::health_server::{self, HealthServer};
use ccaas_protos::grpc::health::v1::{HealthCheckRequest, HealthCheckResponse};
use ccaas_protos::protos::chaincode_server;
use tokio::sync::watch;
use tokio_stream::wrappers::WatchStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

/// The health service of one server.
pub(crate) struct Health {
    status: watch::Receiver<ServingStatus>,
}

impl Health {
    /// The service, `SERVING`, and the sender that changes its status.
    pub(crate) fn serving() -> (watch::Sender<ServingStatus>, HealthServer<Health>) {
        let (sender, status) = watch::channel(ServingStatus::Serving);
        (sender, HealthServer::new(Health { status }))
    }

    fn status_of(&self, service: &str) -> Result<ServingStatus, Status> {
        if service.is_empty() || service == chaincode_server::SERVICE_NAME {
            Ok(*self.status.borrow())
        } else {
            Err(Status::not_found("service not registered"))
        }
    }
}

fn response(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse { status: status as i32 }
}

type WatchResponses = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl health_server::Health for Health {
    async fn check(&self, request: Request<HealthCheckRequest>) -> Result<Response<HealthCheckResponse>, Status> {
        let status = self.status_of(&request.get_ref().service)?;
        Ok(Response::new(response(status)))
    }

    type WatchStream = WatchResponses;

    async fn watch(&self, request: Request<HealthCheckRequest>) -> Result<Response<WatchResponses>, Status> {
        self.status_of(&request.get_ref().service)?;
        let statuses = WatchStream::new(self.status.clone()).map(|status| Ok(response(status)));
        Ok(Response::new(Box::pin(statuses)))
    }
}
