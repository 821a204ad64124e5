// The demo machine: the demo guest OS described to the demo VMM (the platform contract both sides were built for).
import Guests
import Hypervisor

extension DemoMonitor {
    /// The assembled demo guest OS and the layout, ports, vectors and hypercalls it expects.
    public static func demoMachine() throws -> Machine {
        let os = try DemoOS.build()
        typealias L = DemoOS.Layout
        return Machine(
            segments: os.segments, entry: os.entry, stackTop: L.kernelStackTop, ramSize: L.ramSize,
            bootPML4: L.bootPML4, virtualAPIC: L.virtualAPIC, msrBitmap: L.msrBitmap,
            debugPort: DemoOS.debugPort, timerVector: DemoOS.timerVector, tprThreshold: DemoOS.tprThreshold,
            powerOff: DemoOS.Hypercall.powerOff.rawValue,
            trapDescriptorTable: DemoOS.Hypercall.trapNextDescriptorTableAccess.rawValue,
            startTimer: DemoOS.Hypercall.startTimer.rawValue,
            externalInterruptTimer: DemoOS.Hypercall.timerThroughExternalInterruptExiting.rawValue)
    }
}
