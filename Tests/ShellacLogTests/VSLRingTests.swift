import Foundation
import Testing

@testable import ShellacLog

@Suite struct VSLRingTests {
    /// Everything readable from `reader` now.
    static func drain(_ reader: inout VSLReader) -> (records: [VSLRecord], overruns: Int) {
        var records: [VSLRecord] = []
        var overruns = 0
        while true {
            switch reader.next() {
            case .record(let record): records.append(record)
            case .overrun: overruns += 1
            case .idle: return (records, overruns)
            }
        }
    }

    @Test func recordsComeBackInOrderWithTheirTagSideAndVXID() throws {
        let ring = try VSLRing(creatingAt: nil, size: 65_536)
        var reader = VSLReader(ring: ring)
        let buffer = VSLBuffer(ring: ring)
        buffer.vxid = 2
        buffer.side = .client
        buffer.record(.begin, "req 1 rxreq")
        buffer.header(.reqHeader, name: "Host", value: "example.com")
        buffer.timestamp("Start", now: 1_796_082_843.442249, start: 1_796_082_843.442249, last: 1_796_082_843.442249)
        #expect(Self.drain(&reader).records.isEmpty, "nothing is visible before the flush")
        buffer.flush()
        let records = Self.drain(&reader).records
        #expect(records.map(\.text) == ["req 1 rxreq", "Host: example.com", "Start: 1796082843.442249 0.000000 0.000000"])
        #expect(records.map(\.tag) == [.begin, .reqHeader, .timestamp])
        #expect(records.allSatisfy { $0.vxid == 2 && $0.side == .client })
    }

    @Test func aPayloadLongerThanTheRecordLimitIsCut() throws {
        let ring = try VSLRing(creatingAt: nil, size: 65_536)
        var reader = VSLReader(ring: ring)
        let buffer = VSLBuffer(ring: ring, recordLimit: 20)
        buffer.record(.reqURL, String(repeating: "a", count: 100))
        buffer.flush()
        #expect(Self.drain(&reader).records.first?.payload.count == 20)
    }

    @Test func maskedTagsAreNotWritten() throws {
        let ring = try VSLRing(creatingAt: nil, size: 65_536)
        var reader = VSLReader(ring: ring)
        let buffer = VSLBuffer(ring: ring, mask: try VSLMask(parsing: "-ReqHeader,+Hash"))
        buffer.record(.reqHeader, "Host: a")
        buffer.record(.hash, "x")
        buffer.record(.debug, "y")
        buffer.flush()
        #expect(Self.drain(&reader).records.map(\.tag) == [.hash])
        #expect(throws: VSLMaskError.self) { try VSLMask(parsing: "-NoSuchTag") }
    }

    @Test func readerFollowsAcrossTheWrapAndIsToldWhenOverrun() throws {
        let ring = try VSLRing(creatingAt: nil, size: 65_536)
        var reader = VSLReader(ring: ring)
        let buffer = VSLBuffer(ring: ring)
        var seen: [String] = []
        // Read as we go: 3 laps of the ring, nothing lost.
        for round in 0..<3_000 {
            buffer.vxid = UInt64(round)
            buffer.record(.reqURL, "/page/\(round)/" + String(repeating: "x", count: 40))
            buffer.flush()
            let (records, overruns) = Self.drain(&reader)
            #expect(overruns == 0)
            seen += records.map { String($0.text.split(separator: "/")[1]) }
        }
        #expect(seen == (0..<3_000).map(String.init))
        // Now write two laps without reading: the reader is told, then reads new records.
        for round in 0..<3_000 {
            buffer.record(.reqURL, "/lost/\(round)/" + String(repeating: "x", count: 40))
            buffer.flush()
        }
        var late = VSLReader(ring: ring, fromStart: true)
        let kept = Self.drain(&late).records
        #expect(!kept.isEmpty && kept.count < 3_000, "-d starts at the oldest chunk still whole")
        #expect(kept.last?.text.hasPrefix("/lost/2999/") == true)
        let (_, overruns) = Self.drain(&reader)
        #expect(overruns == 1)
        buffer.record(.reqURL, "/after")
        buffer.flush()
        #expect(Self.drain(&reader).records.map(\.text) == ["/after"])
    }

    @Test func aSecondProcessReadsTheFileWhileTwoThreadsWrite() throws {
        let path = NSTemporaryDirectory() + "vsl-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ring = try VSLRing(creatingAt: path, size: 1 << 22)
        let reading = try VSLRing(readingAt: path)
        #expect(reading.generation == ring.generation)
        var reader = VSLReader(ring: reading)
        let writers = 2, perWriter = 2_000
        DispatchQueue.concurrentPerform(iterations: writers) { writer in
            let buffer = VSLBuffer(ring: ring)
            buffer.vxid = UInt64(writer)
            for index in 0..<perWriter {
                buffer.record(.link, "req \(index) rxreq")
                buffer.flush()
            }
        }
        let records = Self.drain(&reader).records
        for writer in 0..<writers {
            let mine = records.filter { $0.vxid == UInt64(writer) }.map(\.text)
            #expect(mine == (0..<perWriter).map { "req \($0) rxreq" })
        }
    }

    @Test func numbersAndTimesAreWrittenAsVarnishPrintsThem() throws {
        let ring = try VSLRing(creatingAt: nil, size: 65_536)
        var reader = VSLReader(ring: ring)
        let buffer = VSLBuffer(ring: ring)
        #expect(buffer.open(.reqAcct))
        buffer.put(0)
        buffer.put(" ")
        buffer.put(1_234_567)
        buffer.put(" ")
        buffer.put(seconds: 0.0000004)
        buffer.put(" ")
        buffer.put(seconds: 119.9931245)
        buffer.put(" ")
        buffer.put(seconds: -2.5, decimals: 3)
        buffer.close()
        buffer.flush()
        #expect(Self.drain(&reader).records.first?.text == "0 1234567 0.000000 119.993125 -2.500")
    }

    @Test func epochTimesInOneSecondAndTheNextAreWrittenWhole() throws {
        let ring = try VSLRing(creatingAt: nil, size: 65_536)
        var reader = VSLReader(ring: ring)
        let buffer = VSLBuffer(ring: ring)
        for time in [1_796_084_465.097446, 1_796_084_465.5, 1_796_084_466.000001, 999.25, 1_796_084_466.75] {
            buffer.timestamp("T", now: time, start: time - 0.5, last: time)
        }
        buffer.flush()
        #expect(Self.drain(&reader).records.map(\.text) == [
            "T: 1796084465.097446 0.500000 0.000000", "T: 1796084465.500000 0.500000 0.000000",
            "T: 1796084466.000001 0.500000 0.000000", "T: 999.250000 0.500000 0.000000",
            "T: 1796084466.750000 0.500000 0.000000",
        ])
    }
}
