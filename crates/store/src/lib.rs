//! Vigil's on-disk store: one RocksDB database per process, opened with the
//! column families the process names, written only through [`Batch`]es that
//! are synced to the write-ahead log before [`Store::write`] returns.
//!
//! That last rule is what "nothing acknowledged is lost" rests on: a process
//! answers a client only after the batch holding what it acknowledges has
//! been written, so a kill at any instant leaves either the whole batch or
//! none of it.
//!
//! RocksDB itself is Debian's `librocksdb-dev` (7.8), linked through the
//! `rocksdb` crate 0.20 (see `.cargo/config.toml` and docs/decisions/0006).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::path::{Path, PathBuf};

use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, Direction, IteratorMode, Options, WriteBatch, WriteOptions, DB};

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened (locked by another process, not a
    /// RocksDB directory, unreadable).
    #[error("cannot open the store at {path}: {source}")]
    Open {
        /// Database directory.
        path: PathBuf,
        /// RocksDB's reason.
        source: rocksdb::Error,
    },
    /// A column family the process did not declare.
    #[error("column family {0:?} is not declared for this store")]
    UnknownColumnFamily(&'static str),
    /// A read or write failed.
    #[error("store I/O on {path}: {source}")]
    Io {
        /// Database directory.
        path: PathBuf,
        /// RocksDB's reason.
        source: rocksdb::Error,
    },
    /// A stored value that does not decode: the database was written by
    /// something else or damaged.
    #[error("corrupt record in column family {cf:?}: {reason}")]
    Corrupt {
        /// Column family.
        cf: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// A key and its value, as scans return them.
pub type Entry = (Vec<u8>, Vec<u8>);

/// An open database.
pub struct Store {
    db: DB,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Writes that land together or not at all.
#[derive(Default)]
pub struct Batch {
    inner: WriteBatch,
    ops: Vec<(&'static str, Op)>,
}

enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("ops", &self.ops.len()).finish()
    }
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value` in column family `cf`.
    pub fn put(&mut self, cf: &'static str, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push((cf, Op::Put(key.into(), value.into())));
    }

    /// Removes `key` from column family `cf`.
    pub fn delete(&mut self, cf: &'static str, key: impl Into<Vec<u8>>) {
        self.ops.push((cf, Op::Delete(key.into())));
    }

    /// Number of writes in it.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether it holds no write.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` with these column
    /// families. Fails if another process holds it.
    pub fn open(path: impl AsRef<Path>, column_families: &[&'static str]) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        // Bounded background work on small machines.
        opts.increase_parallelism(2);
        let cfs = column_families.iter().map(|name| ColumnFamilyDescriptor::new(*name, Options::default()));
        let db = DB::open_cf_descriptors(&opts, &path, cfs)
            .map_err(|source| StoreError::Open { path: path.clone(), source })?;
        Ok(Self { db, path })
    }

    /// The database directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn cf(&self, name: &'static str) -> Result<&ColumnFamily, StoreError> {
        self.db.cf_handle(name).ok_or(StoreError::UnknownColumnFamily(name))
    }

    fn io(&self, source: rocksdb::Error) -> StoreError {
        StoreError::Io { path: self.path.clone(), source }
    }

    /// The value at `key` in `cf`.
    pub fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let handle = self.cf(cf)?;
        self.db.get_cf(handle, key).map_err(|e| self.io(e))
    }

    /// Writes the batch atomically and syncs the write-ahead log before
    /// returning: once this returns `Ok`, a crash does not lose the batch.
    pub fn write(&self, batch: Batch) -> Result<(), StoreError> {
        self.write_with(batch, true)
    }

    /// Writes the batch atomically without waiting for the sync: for data
    /// that can be rebuilt (caches, indexes of synced data) where a crash may
    /// lose the last writes.
    pub fn write_unsynced(&self, batch: Batch) -> Result<(), StoreError> {
        self.write_with(batch, false)
    }

    /// Waits until every write made so far, synced or not, is on disk (one
    /// sync of the write-ahead log). With [`Self::write_unsynced`] it splits
    /// a synced write in two, so a caller can release its own locks before
    /// waiting for the disk and concurrent writers share one sync.
    pub fn sync_wal(&self) -> Result<(), StoreError> {
        self.db.flush_wal(true).map_err(|e| self.io(e))
    }

    fn write_with(&self, mut batch: Batch, sync: bool) -> Result<(), StoreError> {
        for (cf, op) in std::mem::take(&mut batch.ops) {
            let handle = self.cf(cf)?;
            match op {
                Op::Put(k, v) => batch.inner.put_cf(handle, k, v),
                Op::Delete(k) => batch.inner.delete_cf(handle, k),
            }
        }
        let mut wo = WriteOptions::default();
        wo.set_sync(sync);
        self.db.write_opt(batch.inner, &wo).map_err(|e| self.io(e))
    }

    /// Entries of `cf` whose key starts with `prefix`, in key order,
    /// starting at `prefix` (or, when `from` is given, at the first key at
    /// or after `from`), at most `limit` of them.
    pub fn scan_prefix(
        &self,
        cf: &'static str,
        prefix: &[u8],
        from: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let handle = self.cf(cf)?;
        let start = from.unwrap_or(prefix);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(handle, IteratorMode::From(start, Direction::Forward)) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(|e| self.io(e))?;
            if !k.starts_with(prefix) {
                break;
            }
            out.push((k.into_vec(), v.into_vec()));
        }
        Ok(out)
    }

    /// Entries of `cf` with keys in `[start, end)`, in key order, newest
    /// first when `reverse`, at most `limit`.
    pub fn scan_range(
        &self,
        cf: &'static str,
        start: &[u8],
        end: &[u8],
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let handle = self.cf(cf)?;
        let mode = if reverse {
            IteratorMode::From(end, Direction::Reverse)
        } else {
            IteratorMode::From(start, Direction::Forward)
        };
        let mut out = Vec::new();
        for item in self.db.iterator_cf(handle, mode) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(|e| self.io(e))?;
            if reverse && k.as_ref() >= end {
                continue;
            }
            if k.as_ref() < start || k.as_ref() >= end {
                break;
            }
            out.push((k.into_vec(), v.into_vec()));
        }
        Ok(out)
    }

    /// Every entry of `cf`, in key order (for loading state at start).
    pub fn for_each(
        &self,
        cf: &'static str,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let handle = self.cf(cf)?;
        for item in self.db.iterator_cf(handle, IteratorMode::Start) {
            let (k, v) = item.map_err(|e| self.io(e))?;
            f(&k, &v)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "a";
    const B: &str = "b";

    #[test]
    fn batches_land_whole_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), &[A, B]).unwrap();
            let mut batch = Batch::new();
            batch.put(A, b"k1".to_vec(), b"v1".to_vec());
            batch.put(B, b"k2".to_vec(), b"v2".to_vec());
            batch.put(A, b"gone".to_vec(), b"x".to_vec());
            batch.delete(A, b"gone".to_vec());
            store.write(batch).unwrap();
        }
        let store = Store::open(dir.path(), &[A, B]).unwrap();
        assert_eq!(store.get(A, b"k1").unwrap().as_deref(), Some(&b"v1"[..]));
        assert_eq!(store.get(B, b"k2").unwrap().as_deref(), Some(&b"v2"[..]));
        assert_eq!(store.get(A, b"gone").unwrap(), None);
        assert_eq!(store.get(A, b"k2").unwrap(), None);
    }

    #[test]
    fn unknown_column_family_fails_the_whole_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &[A]).unwrap();
        let mut batch = Batch::new();
        batch.put(A, b"k".to_vec(), b"v".to_vec());
        batch.put("nope", b"k".to_vec(), b"v".to_vec());
        assert!(matches!(store.write(batch), Err(StoreError::UnknownColumnFamily("nope"))));
        assert_eq!(store.get(A, b"k").unwrap(), None);
    }

    #[test]
    fn second_process_cannot_open() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path(), &[A]).unwrap();
        let err = Store::open(dir.path(), &[A]).unwrap_err();
        assert!(err.to_string().contains("cannot open the store"), "{err}");
    }

    #[test]
    fn scans() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &[A]).unwrap();
        let mut batch = Batch::new();
        for (k, v) in [("p/1", "1"), ("p/2", "2"), ("p/3", "3"), ("q/1", "x"), ("o/9", "y")] {
            batch.put(A, k.as_bytes().to_vec(), v.as_bytes().to_vec());
        }
        store.write(batch).unwrap();
        let keys =
            |v: Vec<(Vec<u8>, Vec<u8>)>| v.into_iter().map(|(k, _)| String::from_utf8(k).unwrap()).collect::<Vec<_>>();
        assert_eq!(keys(store.scan_prefix(A, b"p/", None, 10).unwrap()), ["p/1", "p/2", "p/3"]);
        assert_eq!(keys(store.scan_prefix(A, b"p/", Some(b"p/2"), 10).unwrap()), ["p/2", "p/3"]);
        assert_eq!(keys(store.scan_prefix(A, b"p/", None, 2).unwrap()), ["p/1", "p/2"]);
        assert_eq!(keys(store.scan_range(A, b"p/2", b"q/", false, 10).unwrap()), ["p/2", "p/3"]);
        assert_eq!(keys(store.scan_range(A, b"p/1", b"p/3", true, 10).unwrap()), ["p/2", "p/1"]);
        let mut n = 0;
        store
            .for_each(A, |_, _| {
                n += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(n, 5);
    }
}
