//! `grpc.health.v1.Health` on the chaincode's port, for probes: `SERVING` for the whole server
//! (the empty service name) and for `protos.Chaincode` while the server runs, `NOT_SERVING` for
//! both once shutdown begins. Any other name is `NOT_FOUND` ("service not registered"), for
//! `Check` and `Watch` alike, as tonic-health answered; `Watch` sends the current status, then
//! each change, until the server stops or the client cancels.

use bytes::{Bytes, BytesMut};
use ccaas_protos::grpc::health::v1::health_check_response::ServingStatus;
use ccaas_protos::grpc::health::v1::{HealthCheckRequest, HealthCheckResponse};
use h2::server::SendResponse;
use tokio::sync::watch;

use super::grpc::{self, GrpcCode, GrpcStatus, Messages};

/// The chaincode's service name, as health checks name it.
const CHAINCODE_SERVICE: &str = "protos.Chaincode";

/// The health service of one server.
#[derive(Clone)]
pub(crate) struct Health {
    status: watch::Receiver<ServingStatus>,
}

impl Health {
    /// The service, `SERVING`, and the sender that changes its status.
    pub(crate) fn serving() -> (watch::Sender<ServingStatus>, Health) {
        let (sender, status) = watch::channel(ServingStatus::Serving);
        (sender, Health { status })
    }

    fn status_of(&self, request: &HealthCheckRequest) -> Result<ServingStatus, GrpcStatus> {
        if request.service.is_empty() || request.service == CHAINCODE_SERVICE {
            Ok(*self.status.borrow())
        } else {
            Err(GrpcStatus::new(GrpcCode::NotFound, "service not registered"))
        }
    }

    /// `Check`: one status.
    pub(crate) async fn check(&self, request: Messages<HealthCheckRequest>, mut respond: SendResponse<Bytes>) {
        let status = match request.single().await.and_then(|request| self.status_of(&request)) {
            Ok(status) => status,
            Err(status) => return grpc::respond_status(respond, &status),
        };
        let mut buf = BytesMut::new();
        let encoded = grpc::encode(&response(status), &mut buf);
        let Ok(mut stream) = grpc::start(&mut respond) else { return };
        if encoded.is_ok() && grpc::send(&mut stream, buf.freeze()).await.is_err() {
            return;
        }
        grpc::finish(stream, &encoded.err().unwrap_or_else(grpc::ok));
    }

    /// `Watch`: the status now, then each change.
    pub(crate) async fn watch(&self, request: Messages<HealthCheckRequest>, mut respond: SendResponse<Bytes>) {
        if let Err(status) = request.single().await.and_then(|request| self.status_of(&request)) {
            return grpc::respond_status(respond, &status);
        }
        let Ok(mut stream) = grpc::start(&mut respond) else { return };
        let mut status = self.status.clone();
        loop {
            let mut buf = BytesMut::new();
            let current = *status.borrow_and_update();
            if let Err(error) = grpc::encode(&response(current), &mut buf) {
                return grpc::finish(stream, &error);
            }
            if grpc::send(&mut stream, buf.freeze()).await.is_err() {
                return;
            }
            tokio::select! {
                changed = status.changed() => if changed.is_err() { break },
                () = grpc::reset(&mut stream) => return,
            }
        }
        grpc::finish(stream, &grpc::ok());
    }
}

fn response(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse { status: status as i32 }
}
