import BusWire
@testable import Gateway
import Testing

/// Bus errors as HTTP answers: what the service says of the request reaches
/// the client; what the bus says of its connections (instances, addresses) does not.
@Suite struct APIErrorTests {
    @Test func theServicesOwnMessagesPassThrough() {
        let invalid = APIError(BusError(.invalidArgument, "description is longer than 1048576 bytes"), service: "analysis-store")
        #expect(invalid.status == .unprocessableContent && invalid.detail == "description is longer than 1048576 bytes")
        let missing = APIError(BusError(.notFound, "no analysis for video x"), service: "analysis-store")
        #expect(missing.status == .notFound && missing.detail == "no analysis for video x" && missing.code == "not-found")
        let conflict = APIError(BusError(.conflict, "video v exists"), service: "analysis-store")
        #expect(conflict.status == .conflict && conflict.detail == "video v exists")
    }

    @Test(arguments: [
        BusError(.unavailable, "connection to analysis-store-1f2e@127.0.0.1:46789 closed"),
        BusError(.unavailable, "cannot connect to analysis-store-1f2e: connection refused (errno: 111) [IPv4]127.0.0.1/127.0.0.1:46789"),
        BusError(.noResponders, "no registry answered before the deadline"),
        BusError(.unauthenticated, "invalid token"),
        BusError(.deadlineExceeded, "no answer from analysis-store-1f2e@10.0.0.7:46789 before the deadline"),
        BusError(.overloaded, "analysis-store-1f2e@10.0.0.7:46789 is overloaded"),
    ])
    func connectionErrorsAreAnsweredWithoutTheirText(_ error: BusError) {
        let answer = APIError(error, service: "analysis-store")
        #expect([503, 504, 429].contains(answer.status.code))
        #expect(!answer.detail.contains("127.0.0.1") && !answer.detail.contains("10.0.0.7") && !answer.detail.contains(":46789"), "\(answer.detail)")
        #expect(answer.detail.hasPrefix("analysis-store "), "\(answer.detail)")
    }

    @Test func noLiveInstanceIsSaidAsItIs() {
        let answer = APIError(BusError(.noResponders, "no live instance of analysis-store"), service: "analysis-store")
        #expect(answer.status == .serviceUnavailable && answer.detail == "no live instance of analysis-store" && answer.code == "no-responders")
    }

    /// Anything else is a 500 for ErrorMiddleware to log and hide.
    @Test func otherErrorsAreInternal() {
        let answer = APIError(BusError(.internal, "response could not be encoded: Swift.EncodingError…"), service: "analysis-store")
        #expect(answer.status == .internalServerError && answer.code == "internal")
    }
}
