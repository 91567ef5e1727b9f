//! gRPC on an h2 stream: the status a stream ends with, the length-prefixed messages both ways,
//! and the response shapes (a stream of messages then trailers, or trailers only).
//!
//! Each message travels in DATA frames behind a 5-byte prefix: a compressed flag (always 0 here:
//! no encoding is negotiated) and its length as a big-endian `u32`. A response starts with
//! HEADERS (`:status 200`, `content-type: application/grpc`) and ends with trailers
//! (`grpc-status`, and `grpc-message` percent-encoded when there is one). Errors carry tonic's
//! codes and texts, which the handler and its logs were written against.

use std::future::poll_fn;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_core::Stream;
use h2::server::SendResponse;
use h2::{Reason, RecvStream, SendStream};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Response};
use prost::Message;

use super::http2::Activity;
use crate::MAX_MESSAGE_SIZE;

/// The compressed flag and the length in front of every message.
const PREFIX: usize = 5;
/// Messages ready together are sent in one DATA frame up to this size (tonic's threshold).
pub(crate) const BATCH: usize = 32 * 1024;

/// A gRPC status code ([the gRPC numbering](https://grpc.github.io/grpc/core/md_doc_statuscodes.html)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrpcCode {
    /// Not an error.
    Ok = 0,
    /// The call was cancelled.
    Cancelled = 1,
    /// An error with no better code.
    Unknown = 2,
    /// The client sent an invalid argument.
    InvalidArgument = 3,
    /// The deadline passed first.
    DeadlineExceeded = 4,
    /// Something asked for was not found.
    NotFound = 5,
    /// What the client tried to create exists.
    AlreadyExists = 6,
    /// Not allowed for this caller.
    PermissionDenied = 7,
    /// A resource (a quota, memory) is used up.
    ResourceExhausted = 8,
    /// The system is not in the state the call needs.
    FailedPrecondition = 9,
    /// Aborted, e.g. by a concurrency conflict.
    Aborted = 10,
    /// Out of the valid range, e.g. a message over the size limit.
    OutOfRange = 11,
    /// Not implemented or not served.
    Unimplemented = 12,
    /// An internal error, e.g. a message that does not decode.
    Internal = 13,
    /// The service is unavailable for now.
    Unavailable = 14,
    /// Data was lost or corrupted.
    DataLoss = 15,
    /// The caller is not authenticated.
    Unauthenticated = 16,
}

/// Why a gRPC stream failed: its code and message, e.g. `OutOfRange` for a message over
/// [`MAX_MESSAGE_SIZE`](crate::MAX_MESSAGE_SIZE), `Internal` for one that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (gRPC status {code:?})")]
pub struct GrpcStatus {
    code: GrpcCode,
    message: String,
}

impl GrpcStatus {
    /// A status with `code` and `message`.
    pub fn new(code: GrpcCode, message: impl Into<String>) -> Self {
        GrpcStatus { code, message: message.into() }
    }

    /// The code.
    pub fn code(&self) -> GrpcCode {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn internal(message: impl Into<String>) -> Self {
        GrpcStatus::new(GrpcCode::Internal, message)
    }

    /// A failed HTTP/2 stream, coded as tonic coded it (gRPC's HTTP/2 error mapping).
    fn from_h2(error: &h2::Error) -> Self {
        let code = match error.reason() {
            Some(Reason::REFUSED_STREAM) => GrpcCode::Unavailable,
            Some(Reason::CANCEL) => GrpcCode::Cancelled,
            Some(Reason::ENHANCE_YOUR_CALM) => GrpcCode::ResourceExhausted,
            Some(Reason::INADEQUATE_SECURITY) => GrpcCode::PermissionDenied,
            Some(_) => GrpcCode::Internal,
            None => GrpcCode::Unknown,
        };
        GrpcStatus::new(code, format!("h2 protocol error: {error}"))
    }

    /// `grpc-status`, and `grpc-message` unless the message is empty.
    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-status", HeaderValue::from(self.code as u16));
        if !self.message.is_empty() {
            if let Ok(message) = HeaderValue::from_str(&percent_encode(&self.message)) {
                headers.insert("grpc-message", message);
            }
        }
        headers
    }
}

/// gRPC's percent-encoding of `grpc-message`: bytes outside printable ASCII, and `%`, as `%XX`.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if (0x20..=0x7e).contains(&byte) && byte != b'%' {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Refuses a request whose messages are compressed (`grpc-encoding` other than `identity`), as
/// tonic did with no compression enabled: `UNIMPLEMENTED`, and `grpc-accept-encoding: identity`.
/// Returns `respond` back when the request can be read.
pub(crate) fn refuse_compressed(headers: &HeaderMap, respond: SendResponse<Bytes>) -> Option<SendResponse<Bytes>> {
    let encoding = match headers.get("grpc-encoding").map(HeaderValue::as_bytes) {
        None | Some(b"identity") => return Some(respond),
        Some(other) => String::from_utf8_lossy(other),
    };
    let status = GrpcStatus::new(
        GrpcCode::Unimplemented,
        format!("Content is compressed with `{encoding}` which isn't supported"),
    );
    let mut headers = status.headers();
    headers.insert("grpc-accept-encoding", HeaderValue::from_static("identity"));
    trailers_only(respond, headers);
    None
}

/// The messages of a request stream, decoded as they arrive. Each chunk's flow-control capacity
/// is released as it is taken in (as hyper did), so the client sends on while the messages are
/// read; the stream ends at the client's END_STREAM, or when it cancels the stream.
pub(crate) struct Messages<M> {
    body: RecvStream,
    buf: BytesMut,
    /// The length of the message being received, once its prefix is in.
    length: Option<usize>,
    activity: Activity,
    done: bool,
    _message: PhantomData<fn() -> M>,
}

impl<M: Message + Default> Messages<M> {
    pub(crate) fn new(body: RecvStream, activity: Activity) -> Self {
        Messages { body, buf: BytesMut::new(), length: None, activity, done: false, _message: PhantomData }
    }

    /// The next whole message in the buffer, if it is in.
    fn decode(&mut self) -> Result<Option<M>, GrpcStatus> {
        let length =
            match self.length {
                Some(length) => length,
                None if self.buf.len() < PREFIX => return Ok(None),
                None => {
                    match self.buf[0] {
                        0 => {}
                        1 => return Err(GrpcStatus::internal(
                            "protocol error: received message with compressed-flag but no grpc-encoding was specified",
                        )),
                        flag => {
                            return Err(GrpcStatus::internal(format!(
                            "protocol error: received message with invalid compression flag: {flag} (valid flags are \
                             0 and 1), while sending request"
                        )))
                        }
                    }
                    let length = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]) as usize;
                    if length > MAX_MESSAGE_SIZE {
                        return Err(GrpcStatus::new(
                            GrpcCode::OutOfRange,
                            format!(
                                "Error, decoded message length too large: found {length} bytes, the limit is: \
                             {MAX_MESSAGE_SIZE} bytes"
                            ),
                        ));
                    }
                    self.buf.advance(PREFIX);
                    self.buf.reserve(length);
                    self.length = Some(length);
                    length
                }
            };
        if self.buf.len() < length {
            return Ok(None);
        }
        self.length = None;
        M::decode(self.buf.split_to(length).freeze()).map(Some).map_err(|e| GrpcStatus::internal(e.to_string()))
    }

    /// The request of a unary call: its one message, then the rest of the stream drained.
    pub(crate) async fn single(mut self) -> Result<M, GrpcStatus> {
        let next = poll_fn(|cx| Pin::new(&mut self).poll_next(cx));
        let message = next.await.ok_or_else(|| GrpcStatus::internal("Missing request message."))??;
        while let Some(extra) = poll_fn(|cx| Pin::new(&mut self).poll_next(cx)).await {
            extra?;
        }
        Ok(message)
    }
}

impl<M: Message + Default> Stream for Messages<M> {
    type Item = Result<M, GrpcStatus>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match this.decode() {
                Ok(Some(message)) => return Poll::Ready(Some(Ok(message))),
                Ok(None) => {}
                Err(status) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(status)));
                }
            }
            match ready!(this.body.poll_data(cx)) {
                Some(Ok(chunk)) => {
                    let _ = this.body.flow_control().release_capacity(chunk.len());
                    this.activity.record();
                    this.buf.extend_from_slice(&chunk);
                }
                // A client that cancels its request ends it, as with tonic.
                Some(Err(e)) if e.reason() == Some(Reason::CANCEL) => this.done = true,
                Some(Err(e)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(GrpcStatus::from_h2(&e))));
                }
                None if this.buf.is_empty() && this.length.is_none() => this.done = true,
                None => {
                    this.done = true;
                    return Poll::Ready(Some(Err(GrpcStatus::internal("Unexpected EOF decoding stream."))));
                }
            }
        }
    }
}

/// Appends `message` to `buf` with its prefix; refuses one over the message size limit.
pub(crate) fn encode(message: &impl Message, buf: &mut BytesMut) -> Result<(), GrpcStatus> {
    let start = buf.len();
    buf.put_bytes(0, PREFIX);
    message.encode(buf).map_err(|e| GrpcStatus::internal(format!("Error encoding: {e}")))?;
    let length = buf.len() - start - PREFIX;
    if length > MAX_MESSAGE_SIZE {
        buf.truncate(start);
        return Err(GrpcStatus::new(
            GrpcCode::OutOfRange,
            format!(
                "Error, encoded message length too large: found {length} bytes, the limit is: {MAX_MESSAGE_SIZE} bytes"
            ),
        ));
    }
    buf[start + 1..start + PREFIX].copy_from_slice(&(length as u32).to_be_bytes());
    Ok(())
}

/// The response head of every call: `:status 200`, `content-type: application/grpc`.
fn head() -> Response<()> {
    let mut response = Response::new(());
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    response
}

/// Answers with `status` alone (a trailers-only response: one HEADERS frame ending the stream).
pub(crate) fn respond_status(respond: SendResponse<Bytes>, status: &GrpcStatus) {
    trailers_only(respond, status.headers());
}

fn trailers_only(mut respond: SendResponse<Bytes>, headers: HeaderMap) {
    let mut response = head();
    response.headers_mut().extend(headers);
    let _ = respond.send_response(response, true);
}

/// Starts a response that streams messages.
pub(crate) fn start(respond: &mut SendResponse<Bytes>) -> Result<SendStream<Bytes>, h2::Error> {
    respond.send_response(head(), false)
}

/// Sends `data` once HTTP/2 flow control lets it start, as hyper does: h2 holds at most this one
/// chunk of the stream until the client's windows take it, so the sender waits rather than
/// buffering more.
pub(crate) async fn send(stream: &mut SendStream<Bytes>, data: Bytes) -> Result<(), h2::Error> {
    stream.reserve_capacity(1);
    while stream.capacity() == 0 {
        match poll_fn(|cx| stream.poll_capacity(cx)).await {
            Some(Ok(0)) => {}
            Some(Ok(_)) => break,
            Some(Err(e)) => return Err(e),
            // The stream can no longer send: reset, or already ended.
            None => return Err(Reason::CANCEL.into()),
        }
    }
    stream.send_data(data, false)
}

/// Ends the response with `status` in its trailers.
pub(crate) fn finish(mut stream: SendStream<Bytes>, status: &GrpcStatus) {
    stream.reserve_capacity(0);
    let _ = stream.send_trailers(status.headers());
}

/// The status of a call that ended well.
pub(crate) fn ok() -> GrpcStatus {
    GrpcStatus::new(GrpcCode::Ok, "")
}

/// Waits until the client resets the stream.
pub(crate) async fn reset(stream: &mut SendStream<Bytes>) {
    let _ = poll_fn(|cx| stream.poll_reset(cx)).await;
}
