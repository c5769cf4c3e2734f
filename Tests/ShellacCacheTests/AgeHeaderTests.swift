import Testing
import VCL
@testable import ShellacCache

@Suite("Age (RFC 9111 §5.1) and delta-seconds (§1.2.2)")
struct AgeHeaderTests {
    @Test(arguments: [
        ("0", 0), ("1", 1), ("60", 60), (" 60 ", 60), ("\t7", 7), ("0007", 7),
        ("2147483647", 2_147_483_647), ("2147483648", 2_147_483_648),
        ("2147483649", 2_147_483_648), ("99999999999999999999999999999999", 2_147_483_648),
    ] as [(String, Int)])
    func parsesNumbers(text: String, age: Int) {
        #expect(AgeHeader.parse(text) == age)
    }

    @Test(arguments: [
        "", " ", "-1", "+1", "1.5", "1e3", "abc", "12abc", "10, 20", "10,20", "1 2", "0x10",
        "١٢", "１２", "\"10\"", "10;", "- 1",
    ])
    func rejectsNonNumbers(text: String) {
        #expect(AgeHeader.parse(text) == nil)
    }

    @Test func headerListLines() {
        #expect(AgeHeader.parse(HeaderList([("age", "30")])) == 30)
        #expect(AgeHeader.parse(HeaderList([("X", "1")])) == nil)
        #expect(AgeHeader.parse(HeaderList([("Age", "30"), ("AGE", "30")])) == 30)
        #expect(AgeHeader.parse(HeaderList([("Age", "30"), ("Age", "40")])) == nil)
        #expect(AgeHeader.parse(HeaderList([("Age", "x")])) == nil)
    }

    @Test(arguments: [
        // originAge, storedAt, now, Age
        (0, 1000.0, 1000.0, 0),
        (0, 1000.0, 1000.9, 0),
        (0, 1000.0, 1001.0, 1),
        (0, 1000.5, 1002.4, 1),
        (30, 1000.0, 1010.0, 40),
        (30, 1000.0, 990.0, 30),  // clock went backwards: never below the origin's age
        (-5, 1000.0, 1000.0, 0),  // never negative
        (2_147_483_648, 0.0, 1e12, 2_147_483_648),
        (10, 0.0, .infinity, 2_147_483_648),
        (10, 0.0, .nan, 10),
    ] as [(Int, Double, Double, Int)])
    func deliveryAge(originAge: Int, storedAt: Double, now: Double, expected: Int) {
        #expect(AgeHeader.value(originAge: originAge, storedAt: storedAt, now: now) == expected)
    }

    @Test(arguments: [
        ("5", 5), ("0", 0), ("2147483648", 2_147_483_648), ("18446744073709551616", 2_147_483_648),
    ] as [(String, Int)])
    func deltaSeconds(text: String, value: Int) {
        #expect(DeltaSeconds.parse(text) == value)
    }

    @Test(arguments: ["", "-5", " 5", "5 ", "5.0", "x"])
    func invalidDeltaSeconds(text: String) {
        #expect(DeltaSeconds.parse(text) == nil)
    }
}
