//! Range, partial composite key, rich and history queries, with and without pagination.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use ccaas_protos::protos::{
    chaincode_message::Type, GetHistoryForKey, GetQueryResult, GetStateByRange, QueryMetadata, QueryResponseMetadata,
};
use prost::Message;

use super::{decode_response, ChaincodeStub, HistoryIterator, PageInfo, QueryIterator, StateIterator};
use crate::error::{Result, ShimError};
use crate::keys;

/// A page request: how many rows and where to continue.
type Page<'a> = Option<(i32, &'a str)>;

impl ChaincodeStub {
    /// Keys in `[start_key, end_key)` in key order. An empty `start_key` starts after the
    /// composite key namespace (at `"\u{1}"`) and an empty `end_key` means no upper bound, so an
    /// unbounded range returns simple keys only. Bounds must not start with U+0000.
    pub async fn get_state_by_range(&self, start_key: &str, end_key: &str) -> Result<StateIterator> {
        let start_key = range_start(start_key, end_key)?;
        self.range_query("", start_key, end_key.to_string(), None).await.map(|(it, _)| it)
    }

    /// One page of [`get_state_by_range`](Self::get_state_by_range): at most `page_size` rows,
    /// continuing after `bookmark` (empty for the first page). Only read-only transactions may
    /// paginate; the peer refuses writes after a paginated query.
    pub async fn get_state_by_range_with_pagination(
        &self,
        start_key: &str,
        end_key: &str,
        page_size: i32,
        bookmark: &str,
    ) -> Result<(StateIterator, PageInfo)> {
        let start_key = range_start(start_key, end_key)?;
        let (it, page) = self.range_query("", start_key, end_key.to_string(), Some((page_size, bookmark))).await?;
        Ok((it, page.unwrap_or_default()))
    }

    /// Every key whose composite key starts with `object_type` and `attributes`.
    pub async fn get_state_by_partial_composite_key<S: AsRef<str>>(
        &self,
        object_type: &str,
        attributes: &[S],
    ) -> Result<StateIterator> {
        let (start, end) = keys::partial_composite_key_range(object_type, attributes)?;
        self.range_query("", start, end, None).await.map(|(it, _)| it)
    }

    /// One page of [`get_state_by_partial_composite_key`](Self::get_state_by_partial_composite_key).
    pub async fn get_state_by_partial_composite_key_with_pagination<S: AsRef<str>>(
        &self,
        object_type: &str,
        attributes: &[S],
        page_size: i32,
        bookmark: &str,
    ) -> Result<(StateIterator, PageInfo)> {
        let (start, end) = keys::partial_composite_key_range(object_type, attributes)?;
        let (it, page) = self.range_query("", start, end, Some((page_size, bookmark))).await?;
        Ok((it, page.unwrap_or_default()))
    }

    /// One page of every composite key, whatever its object type.
    pub async fn get_all_states_composite_key_with_pagination(
        &self,
        page_size: i32,
        bookmark: &str,
    ) -> Result<(StateIterator, PageInfo)> {
        let start = keys::COMPOSITE_KEY_NAMESPACE.to_string();
        let end = format!("{}{}", keys::COMPOSITE_KEY_NAMESPACE, keys::MAX_UNICODE_RUNE);
        let (it, page) = self.range_query("", start, end, Some((page_size, bookmark))).await?;
        Ok((it, page.unwrap_or_default()))
    }

    /// A rich query (CouchDB selector JSON); a LevelDB peer rejects it.
    pub async fn get_query_result(&self, query: &str) -> Result<StateIterator> {
        self.rich_query("", query, None).await.map(|(it, _)| it)
    }

    /// One page of a rich query.
    pub async fn get_query_result_with_pagination(
        &self,
        query: &str,
        page_size: i32,
        bookmark: &str,
    ) -> Result<(StateIterator, PageInfo)> {
        let (it, page) = self.rich_query("", query, Some((page_size, bookmark))).await?;
        Ok((it, page.unwrap_or_default()))
    }

    /// Every committed change of `key`, newest first (needs the peer's history database).
    pub async fn get_history_for_key(&self, key: &str) -> Result<HistoryIterator> {
        let request = GetHistoryForKey { key: key.to_string() };
        let payload = self.link.call(Type::GetHistoryForKey, &request).await?;
        let response = decode_response(Type::GetHistoryForKey, payload)?;
        Ok(QueryIterator::new(Arc::clone(&self.link), response))
    }

    // ------------------------------------------------------------------ shared with private data

    pub(super) async fn range_query(
        &self,
        collection: &str,
        start_key: String,
        end_key: String,
        page: Page<'_>,
    ) -> Result<(StateIterator, Option<PageInfo>)> {
        let refuses_writes = self.before_query(collection, page).await?;
        let request =
            GetStateByRange { start_key, end_key, collection: collection.to_string(), metadata: page_metadata(page) };
        let payload = self.link.call(Type::GetStateByRange, &request).await?;
        self.after_query(refuses_writes);
        self.iterator(Type::GetStateByRange, payload, page.is_some())
    }

    pub(super) async fn rich_query(
        &self,
        collection: &str,
        query: &str,
        page: Page<'_>,
    ) -> Result<(StateIterator, Option<PageInfo>)> {
        let refuses_writes = self.before_query(collection, page).await?;
        let request = GetQueryResult {
            query: query.to_string(),
            collection: collection.to_string(),
            metadata: page_metadata(page),
        };
        let payload = self.link.call(Type::GetQueryResult, &request).await?;
        self.after_query(refuses_writes);
        self.iterator(Type::GetQueryResult, payload, page.is_some())
    }

    /// A private data query, or a paginated one (the peer's rule: a page size or a bookmark),
    /// makes the peer refuse every later write of the transaction, and the peer refuses such a
    /// query after a write. Batched writes are sent first, so the peer judges the query as it
    /// would unbatched. Returns whether the query is private, if it is one of those.
    async fn before_query(&self, collection: &str, page: Page<'_>) -> Result<Option<bool>> {
        let private = !collection.is_empty();
        let paginated = page.is_some_and(|(size, bookmark)| size != 0 || !bookmark.is_empty());
        if !private && !paginated {
            return Ok(None);
        }
        self.flush_write_batch().await?;
        Ok(Some(private))
    }

    /// Records an answered query that makes the peer refuse later writes, for
    /// `check_batched_write`.
    fn after_query(&self, refuses_writes: Option<bool>) {
        match refuses_writes {
            Some(true) => self.private_query_made.store(true, Ordering::Relaxed),
            Some(false) => self.paginated_query_made.store(true, Ordering::Relaxed),
            None => {}
        }
    }

    fn iterator(&self, kind: Type, payload: Bytes, paginated: bool) -> Result<(StateIterator, Option<PageInfo>)> {
        let response = decode_response(kind, payload)?;
        let page = if paginated {
            let metadata = QueryResponseMetadata::decode(response.metadata.clone())
                .map_err(|e| ShimError::Decode { request: kind.as_str_name(), reason: e.to_string() })?;
            Some(PageInfo::from(metadata))
        } else {
            None
        };
        Ok((QueryIterator::new(Arc::clone(&self.link), response), page))
    }
}

/// The Go shim's range start rules: `""` becomes `"\u{1}"`, and no bound may start with U+0000.
pub(super) fn range_start(start_key: &str, end_key: &str) -> Result<String> {
    let start_key = if start_key.is_empty() { keys::EMPTY_KEY_SUBSTITUTE } else { start_key };
    keys::validate_simple_keys(&[start_key, end_key])?;
    Ok(start_key.to_string())
}

/// The encoded `QueryMetadata` of a page request (empty when not paginated).
fn page_metadata(page: Page<'_>) -> Bytes {
    match page {
        None => Bytes::new(),
        Some((page_size, bookmark)) => {
            Bytes::from(QueryMetadata { page_size, bookmark: bookmark.to_string() }.encode_to_vec())
        }
    }
}
