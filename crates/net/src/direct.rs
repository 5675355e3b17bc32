//! Direct messages: one message to one peer, answered with a one-byte
//! receipt, over libp2p request-response under `/vigil/<chain>/direct/1`.
//!
//! Gossip floods: every member receives every message, once per mesh peer
//! that has it. Some messages have one reader: a batch vote matters only to
//! the batch's proposer, which aggregates the votes and gossips one
//! certificate (DESIGN §4b leaves how batches are formed to the
//! implementation). Sent directly, such a message costs one stream to one
//! peer instead of a flood through the mesh.
//!
//! Wire format of a request: the topic's tag byte ([`topic_tag`]), then a
//! big-endian `u32` length and that many bytes, at most the topic's
//! [`Topic::max_message_size`]. The response is one byte: [`DELIVERED`] when
//! the message reached the application's queue, [`BUSY`] when the queue was
//! full. A sender that gets anything but [`DELIVERED`] (or no answer) should
//! fall back to gossip.

use std::io;

use futures::{AsyncReadExt, AsyncWriteExt};
use libp2p::{
    futures::{AsyncRead, AsyncWrite},
    request_response, StreamProtocol,
};
use vigil_types::Topic;

/// The application has the message.
pub(crate) const DELIVERED: u8 = 0;
/// The application's queue was full: the message was dropped.
pub(crate) const BUSY: u8 = 1;

/// A direct message on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirectRequest {
    pub(crate) topic: Topic,
    pub(crate) data: Vec<u8>,
}

/// The topic's tag byte: its position in [`Topic::ALL`].
pub(crate) fn topic_tag(topic: Topic) -> u8 {
    Topic::ALL.iter().position(|t| *t == topic).and_then(|i| u8::try_from(i).ok()).unwrap_or(u8::MAX)
}

fn topic_of(tag: u8) -> Option<Topic> {
    Topic::ALL.get(usize::from(tag)).copied()
}

/// The protocol name for `chain_id`.
pub(crate) fn protocol(chain_id: u64) -> Result<StreamProtocol, String> {
    StreamProtocol::try_from_owned(format!("/vigil/{chain_id}/direct/1")).map_err(|e| e.to_string())
}

/// Reads and writes [`DirectRequest`]s and one-byte receipts.
#[derive(Debug, Clone, Default)]
pub(crate) struct DirectCodec;

impl request_response::Codec for DirectCodec {
    type Protocol = StreamProtocol;
    type Request = DirectRequest;
    type Response = u8;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<DirectRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut head = [0u8; 5];
        io.read_exact(&mut head).await?;
        let topic = topic_of(head[0]).ok_or_else(|| invalid(format!("unknown topic tag {}", head[0])))?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if len == 0 || len > topic.max_message_size() {
            return Err(invalid(format!("{len} bytes on {topic:?} (bound {})", topic.max_message_size())));
        }
        let mut data = vec![0u8; len];
        io.read_exact(&mut data).await?;
        Ok(DirectRequest { topic, data })
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<u8>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut receipt = [0u8; 1];
        io.read_exact(&mut receipt).await?;
        Ok(receipt[0])
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, req: DirectRequest) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let len = u32::try_from(req.data.len()).map_err(|_| invalid("message too large".into()))?;
        let mut frame = Vec::with_capacity(5 + req.data.len());
        frame.push(topic_tag(req.topic));
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(&req.data);
        io.write_all(&frame).await?;
        io.close().await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, receipt: u8) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&[receipt]).await?;
        io.close().await
    }
}

fn invalid(reason: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason)
}

#[cfg(test)]
mod tests {
    use futures::io::Cursor;
    use request_response::Codec;

    use super::*;

    fn roundtrip(req: DirectRequest) -> io::Result<DirectRequest> {
        futures::executor::block_on(async {
            let p = protocol(7).unwrap();
            let mut buf = Cursor::new(Vec::new());
            DirectCodec.write_request(&p, &mut buf, req).await?;
            let mut read = Cursor::new(buf.into_inner());
            DirectCodec.read_request(&p, &mut read).await
        })
    }

    #[test]
    fn every_topic_has_its_own_tag_and_messages_round_trip() {
        for topic in Topic::ALL {
            assert_eq!(topic_of(topic_tag(topic)), Some(topic));
            let req = DirectRequest { topic, data: vec![7; 100] };
            assert_eq!(roundtrip(req.clone()).unwrap(), req);
        }
    }

    #[test]
    fn an_empty_an_oversized_or_an_unknown_topic_message_is_refused() {
        futures::executor::block_on(async {
            let p = protocol(7).unwrap();
            let frame = |tag: u8, len: u32, body: usize| {
                let mut f = vec![tag];
                f.extend_from_slice(&len.to_be_bytes());
                f.extend(std::iter::repeat_n(1u8, body));
                Cursor::new(f)
            };
            let vote = topic_tag(Topic::BatchVote);
            let max = Topic::BatchVote.max_message_size() as u32;
            assert!(DirectCodec.read_request(&p, &mut frame(vote, 0, 0)).await.is_err(), "empty");
            assert!(DirectCodec.read_request(&p, &mut frame(vote, max + 1, 0)).await.is_err(), "over the bound");
            assert!(DirectCodec.read_request(&p, &mut frame(200, 3, 3)).await.is_err(), "unknown tag");
            assert!(DirectCodec.read_request(&p, &mut frame(vote, 10, 3)).await.is_err(), "cut short");
            assert!(DirectCodec.read_request(&p, &mut frame(vote, max, max as usize)).await.is_ok(), "at the bound");
        });
    }
}
