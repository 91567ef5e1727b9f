//! The result of a transaction, as the chaincode returns it to the peer.

use bytes::Bytes;
use ccaas_protos::protos;

/// Status code of a successful transaction.
pub const OK: i32 = 200;
/// Responses with a status at or above this are not endorsed by the peer.
pub const ERROR_THRESHOLD: i32 = 400;
/// Status code of a failed transaction.
pub const ERROR: i32 = 500;

/// What a transaction returns: a status, a message and a payload.
///
/// The peer endorses only responses with a status below [`ERROR_THRESHOLD`]; writes of a
/// transaction that does not return [`OK`] are never committed.
///
/// ```
/// use ccaas_shim::Response;
/// let ok = Response::success("asset1");
/// assert_eq!(ok.status, 200);
/// let failed = Response::error("the asset asset1 does not exist");
/// assert_eq!((failed.status, failed.message.as_str()), (500, "the asset asset1 does not exist"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// HTTP-like status: 200 success, 400-499 chaincode error, 500 and above failure.
    pub status: i32,
    /// A human-readable message, usually set on failure.
    pub message: String,
    /// The bytes returned to the client.
    pub payload: Bytes,
}

impl Response {
    /// A successful response (status 200) carrying `payload`.
    pub fn success(payload: impl Into<Bytes>) -> Self {
        Response { status: OK, message: String::new(), payload: payload.into() }
    }

    /// A failed response (status 500) carrying `message`.
    pub fn error(message: impl Into<String>) -> Self {
        Response { status: ERROR, message: message.into(), payload: Bytes::new() }
    }

    /// Whether the peer will endorse this response (status below 400).
    pub fn is_success(&self) -> bool {
        self.status < ERROR_THRESHOLD
    }
}

impl From<Response> for protos::Response {
    fn from(r: Response) -> Self {
        protos::Response { status: r.status, message: r.message, payload: r.payload }
    }
}

impl From<protos::Response> for Response {
    fn from(r: protos::Response) -> Self {
        Response { status: r.status, message: r.message, payload: r.payload }
    }
}

impl<T: Into<Bytes>, E: std::fmt::Display> From<Result<T, E>> for Response {
    /// `Ok(payload)` becomes a success, `Err(e)` a status-500 response with `e`'s message.
    fn from(result: Result<T, E>) -> Self {
        match result {
            Ok(payload) => Response::success(payload),
            Err(e) => Response::error(e.to_string()),
        }
    }
}
