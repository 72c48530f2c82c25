//! Cases C01-C08: upstream bytes cut into reads every which way come out as canonical events,
//! through a running node.

use sluice_demo_upstream::scripted::Reply;

use crate::support::{Client, TestNode, one_route, upstream};

/// Streams `chunks` (each a separate upstream write) through a node and returns what the client
/// received, to the end of the stream.
async fn relay(chunks: &[&[u8]]) -> String {
    let upstream = upstream().await;
    let mut reply = Reply::sse();
    for chunk in chunks {
        reply = reply.chunk(chunk.to_vec());
    }
    upstream.enqueue(reply);
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let mut client = Client::h1(node.addr()).await;
    let mut stream = client.get("/t/acme/events", &[]).await;
    assert_eq!(stream.status, 200);
    stream.read_to_end().await
}

#[tokio::test]
async fn c01_crlf_split_across_reads_gives_one_event() {
    let got = relay(&[b"data: {\"n\":\r", b"\ndata: 1}\r\n\r\n"]).await;
    assert_eq!(got, "data: {\"n\":\ndata: 1}\n\n");
}

#[tokio::test]
async fn c01_every_split_of_a_crlf_stream_gives_the_same_bytes() {
    let input: &[u8] = b"data: {\"n\":\r\ndata: 1}\r\n\r\nid: 2\r\ndata: x\r\n\r\n";
    let expected = "data: {\"n\":\ndata: 1}\n\nid: 2\ndata: x\n\n";
    for split in [1, 11, 12, 13, 25, 26, 27, 30] {
        let (a, b) = input.split_at(split);
        assert_eq!(relay(&[a, b]).await, expected, "split at {split}");
    }
}

#[tokio::test]
async fn c02_mixed_terminators_give_two_events_with_lf_only() {
    let got = relay(&[b"id: 1\r\ndata: {\"x\":1}\n\ndata: {\"x\":2}\r\r"]).await;
    assert_eq!(got, "id: 1\ndata: {\"x\":1}\n\ndata: {\"x\":2}\n\n");
}

#[tokio::test]
async fn c03_one_leading_bom_is_stripped() {
    assert_eq!(
        relay(&[b"\xEF\xBB\xBFdata:1\n\ndata:2\n\n"]).await,
        "data: 1\n\ndata: 2\n\n"
    );
}

#[tokio::test]
async fn c03_a_second_bom_makes_an_unknown_field() {
    let got = relay(&[b"\xEF\xBB\xBF\xEF\xBB\xBFdata:1\n\ndata:2\n\ndata:3\n\n"]).await;
    assert_eq!(got, "data: 2\n\ndata: 3\n\n");
}

#[tokio::test]
async fn c03_a_bom_split_across_reads_or_after_an_empty_read_is_stripped() {
    assert_eq!(
        relay(&[b"\xEF", b"\xBB\xBFdata:1\n\n"]).await,
        "data: 1\n\n"
    );
    assert_eq!(
        relay(&[b"", b"\xEF\xBB\xBFdata:1\n\n"]).await,
        "data: 1\n\n"
    );
}

#[tokio::test]
async fn c05_only_one_space_after_the_colon_is_removed() {
    let got =
        relay(&[b"data:{\"v\":\" a\"}\n\ndata:  {\"v\":1}\n\nevent:tick\ndata: {\"v\":2}\n\n"])
            .await;
    assert_eq!(
        got,
        "data: {\"v\":\" a\"}\n\ndata:  {\"v\":1}\n\nevent: tick\ndata: {\"v\":2}\n\n"
    );
}

#[tokio::test]
async fn c06_multi_line_data_is_one_event_with_one_line_each() {
    let got = relay(&[
        b"data: {\ndata:   \"a\": 1,\ndata:   \"b\": [2]\ndata: }\n\ndata:\ndata:\ndata: 7\n\n",
    ])
    .await;
    assert_eq!(
        got,
        "data: {\ndata:   \"a\": 1,\ndata:   \"b\": [2]\ndata: }\n\ndata:\ndata:\ndata: 7\n\n"
    );
}

#[tokio::test]
async fn c07_colonless_fields_empty_data_and_nul_are_kept_apart() {
    let got = relay(&[b"data:\n\ndata\ndata\n\ndata:test\n\ndata:\x00\n\n"]).await;
    assert_eq!(
        got,
        "data:\n\ndata:\ndata:\n\ndata: test\n\ndata: \u{0}\n\n"
    );
}

#[tokio::test]
async fn c08_id_rules_and_the_id_only_block_are_forwarded() {
    let got = relay(&[
        b"id: 1\ndata: {\"n\":1}\n\ndata: {\"n\":2}\n\nid\ndata: {\"n\":3}\n\nid: 7\ndata: {\"n\":4}\n\n",
        b"id: a\x00b\ndata: {\"n\":5}\n\nid: 9\n\n",
    ])
    .await;
    assert_eq!(
        got,
        "id: 1\ndata: {\"n\":1}\n\ndata: {\"n\":2}\n\nid:\ndata: {\"n\":3}\n\n\
         id: 7\ndata: {\"n\":4}\n\ndata: {\"n\":5}\n\nid: 9\n\n"
    );
}
