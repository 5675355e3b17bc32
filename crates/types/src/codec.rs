//! The canonical binary encoding shared by every wire type.
//!
//! Each message starts with a version byte, then fixed-width big-endian
//! integers and length-prefixed byte strings with a per-field bound. A decoder
//! consumes the whole input or rejects it, so a byte string has at most one
//! meaning and decoding then encoding gives back the same bytes.

use crate::error::DecodeError;

/// A type with one canonical, versioned, size-bounded binary form.
pub trait Wire: Sized {
    /// The version byte this build writes and accepts.
    const VERSION: u8;
    /// Upper bound on the encoded size; larger inputs are rejected unread.
    const MAX_SIZE: usize;
    /// Human name used in error messages.
    const NAME: &'static str;

    /// Appends the fields (after the version byte) to `out`.
    fn encode_fields(&self, out: &mut Vec<u8>);

    /// Reads the fields (after the version byte).
    fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// The canonical encoding.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.push(Self::VERSION);
        self.encode_fields(&mut out);
        out
    }

    /// Decodes the canonical encoding, rejecting anything else.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > Self::MAX_SIZE {
            return Err(DecodeError::TooLarge { what: Self::NAME, size: bytes.len(), max: Self::MAX_SIZE });
        }
        let mut r = Reader::new(bytes, Self::NAME);
        let version = r.u8("version")?;
        if version != Self::VERSION {
            return Err(DecodeError::UnknownVersion { what: Self::NAME, got: version, expected: Self::VERSION });
        }
        let value = Self::decode_fields(&mut r)?;
        r.finish()?;
        Ok(value)
    }
}

/// A cursor over input bytes that names what it was reading when it fails.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Starts reading `buf`, a `what` (used in errors).
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, what }
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated { what: self.what, field, needed: n, got: self.buf.len() });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// Big-endian u16.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// Big-endian u32.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// Big-endian u64.
    pub fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// A byte string with a one-byte length prefix, at most `max` long.
    pub fn bytes_u8(&mut self, field: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = usize::from(self.u8(field)?);
        self.bounded(field, len, max)
    }

    /// A byte string with a two-byte length prefix, at most `max` long.
    pub fn bytes_u16(&mut self, field: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = usize::from(self.u16(field)?);
        self.bounded(field, len, max)
    }

    /// A byte string with a four-byte length prefix, at most `max` long.
    pub fn bytes_u32(&mut self, field: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = usize::try_from(self.u32(field)?).unwrap_or(usize::MAX);
        self.bounded(field, len, max)
    }

    fn bounded(&mut self, field: &'static str, len: usize, max: usize) -> Result<&'a [u8], DecodeError> {
        if len > max {
            return Err(DecodeError::FieldTooLong { what: self.what, field, len, max });
        }
        self.take(len, field)
    }

    /// Fails if bytes remain.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes { what: self.what, count: self.buf.len() })
        }
    }
}

/// Appends a byte string with a one-byte length prefix. The caller keeps the
/// length within bounds (checked by the type's constructor).
pub(crate) fn put_u8_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(bytes);
}

/// Appends a byte string with a two-byte length prefix.
pub(crate) fn put_u16_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u16::try_from(bytes.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Appends a byte string with a four-byte length prefix.
pub(crate) fn put_u32_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}
