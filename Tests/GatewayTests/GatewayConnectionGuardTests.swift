@testable import Gateway
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

/// The connection's edges, which router mode never reaches: deadlines for a
/// head, a body's progress and an idle keep-alive connection, the cap on
/// connections, and the parser's bare 400 made JSON. On an embedded channel
/// whose clock the test moves: no sockets, no waiting.
@Suite struct GatewayConnectionGuardTests {
    static let limits = ConnectionGuard.Limits(header: .seconds(10), body: .seconds(10), idle: .seconds(60))

    /// A connected channel with the guard where Hummingbird's HTTP codec hands it request parts.
    static func connection() throws -> (EmbeddedChannel, ConnectionGuard) {
        let channel = EmbeddedChannel()
        let connectionGuard = ConnectionGuard(limits: limits)
        try channel.pipeline.syncOperations.addHandler(connectionGuard)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8000)).wait()
        return (channel, connectionGuard)
    }

    static let head = HTTPRequestPart.head(HTTPRequest(method: .post, scheme: "http", authority: "127.0.0.1", path: "/api/video-analysis/"))

    static func answer(_ channel: EmbeddedChannel, _ status: HTTPResponse.Status = .ok) throws {
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: status, headerFields: [.contentLength: "0"])))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
    }

    @Test func aHeadNotWholeWithinItsDeadlineClosesTheConnection() throws {
        let (channel, _) = try Self.connection()
        channel.embeddedEventLoop.advanceTime(by: .seconds(10) - .nanoseconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .nanoseconds(1))
        #expect(!channel.isActive)
    }

    @Test func aBodyMustKeepMoving() throws {
        let (channel, _) = try Self.connection()
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        try channel.writeInbound(Self.head)
        for _ in 0..<5 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(9))
            try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "{")))
        }
        #expect(channel.isActive, "45 s of a body that moves every 9 s")
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive, "10 s without progress")
    }

    /// While the gateway answers, the bus call's own deadline governs; after the answer the idle one does.
    @Test func answeringHasNoDeadlineThenIdleDoes() throws {
        let (channel, _) = try Self.connection()
        try channel.writeInbound(Self.head)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        #expect(channel.isActive)
        try Self.answer(channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    /// The next request's first byte on a kept-alive connection starts its head's deadline (not the idle one's).
    @Test func theNextRequestsFirstByteStartsItsHeadDeadline() throws {
        let (channel, connectionGuard) = try Self.connection()
        try channel.writeInbound(Self.head)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try Self.answer(channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        connectionGuard.bytesArrived()
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "closed 10 s after the first byte, long before the idle 60 s")
    }

    /// An answer before the body ended (an early 413 or 503) leaves the body its deadline; its end makes the connection idle.
    @Test func anEarlyAnswerLeavesTheRestOfTheBodyItsDeadline() throws {
        let (channel, _) = try Self.connection()
        try channel.writeInbound(Self.head)
        try Self.answer(channel, .contentTooLarge)
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)

        let (stalled, _) = try Self.connection()
        try stalled.writeInbound(Self.head)
        try Self.answer(stalled, .contentTooLarge)
        stalled.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!stalled.isActive, "the rest of the body never came")
    }

    /// Hummingbird answers a request it cannot parse with a bare 400; the client reads the gateway's JSON shape.
    @Test func theParsersBare400BecomesJSON() throws {
        let (channel, _) = try Self.connection()
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .badRequest, headerFields: [.contentLength: "0", .connection: "close"])))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        guard case .head(let head) = try channel.readOutbound(as: HTTPResponsePart.self) else { Issue.record("no head"); return }
        guard case .body(let body) = try channel.readOutbound(as: HTTPResponsePart.self) else { Issue.record("no body"); return }
        guard case .end = try channel.readOutbound(as: HTTPResponsePart.self) else { Issue.record("no end"); return }
        #expect(head.status == .badRequest && head.headerFields[.contentType] == "application/json")
        #expect(head.headerFields[.contentLength] == String(body.readableBytes))
        #expect(String(buffer: body) == #"{"code":"invalid-argument","detail":"the request is not valid HTTP/1.1"}"#)

        // The gateway's own 400s already are JSON: left as they are.
        let own = HTTPResponse(status: .badRequest, headerFields: [.contentType: "application/json", .contentLength: "2"])
        try channel.writeOutbound(HTTPResponsePart.head(own))
        guard case .head(let passed) = try channel.readOutbound(as: HTTPResponsePart.self) else { Issue.record("no head"); return }
        #expect(passed == own)
    }

    @Test func connectionsBeyondTheCapAreCountedUntilTheyClose() {
        let count = ConnectionCount(limit: 2)
        #expect(count.open() && count.open())
        #expect(!count.open(), "the third is beyond the cap")
        count.close()
        #expect(count.current == 2)
        #expect(!count.open(), "two are still open")
        count.close()
        count.close()
        #expect(count.open() && count.current == 2)
    }

    /// A connection beyond the cap is answered 503 with Retry-After and closed, before it sends anything.
    @Test func aRefusedConnectionIsAnswered503AndClosed() throws {
        let channel = EmbeddedChannel(handler: RefuseConnection())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8000)).wait()
        let answer = try #require(try channel.readOutbound(as: ByteBuffer.self))
        let text = String(buffer: answer)
        let body = #"{"code":"overloaded","detail":"the gateway has too many open connections; retry later"}"#
        #expect(text.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(text.contains("\r\nRetry-After: 1\r\n") && text.contains("\r\nContent-Type: application/json\r\n") && text.contains("\r\nConnection: close\r\n"))
        #expect(text.hasSuffix("\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body))
        #expect(!channel.isActive)
    }
}
