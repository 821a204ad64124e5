// The PC machine: guest RAM, the devices of a PC on a port-I/O bus and an MMIO bus, a kernel or firmware
// loaded by a boot protocol, and one vCPU in VMX non-root operation. Built only on the public Hypervisor
// API, so a hardware backend can slot in beneath it.
import Devices
import Hypervisor
import Loaders
import X86

/// Why a machine could not be built or stopped with an error: one line, naming the problem.
public struct MachineError: Error, CustomStringConvertible, Equatable {
    /// The explanation.
    public var description: String
    /// Creates the error.
    public init(_ description: String) { self.description = description }
}

/// What a guest boots from.
public enum BootSource: Equatable, Sendable {
    /// A kernel file: a bzImage (Linux boot protocol), a multiboot v1 kernel, or an ELF executable, chosen by
    /// what the file contains; `initrd` is the Linux initrd or the first multiboot module.
    case kernel(image: [UInt8], initrd: [UInt8]?, commandLine: String)
    /// A firmware ROM started at the reset vector in real mode.
    case firmware(rom: [UInt8])

    /// The same source without its file images (the command line stays), kept by a machine after loading.
    var loaded: BootSource {
        switch self {
        case .kernel(_, _, let commandLine): return .kernel(image: [], initrd: nil, commandLine: commandLine)
        case .firmware: return .firmware(rom: [])
        }
    }
}

/// How guest time relates to the host's.
public enum ClockMode: String, Equatable, Sendable, CaseIterable {
    /// Guest time is the instruction count (1 instruction = 1 ns) plus time skipped while the guest halts;
    /// halts wait on the host until the host clock reaches the guest's next deadline (no faster than real
    /// time, like QEMU's `-icount shift=0,sleep=on`).
    case realtime
    /// Guest time is the instruction count, and halts skip straight to the next deadline without waiting:
    /// the same guest and input give the same output, run after run.
    case deterministic
}

/// The console the guest's COM1 talks to.
public protocol ConsoleIO: AnyObject {
    /// Receives the guest's output bytes.
    func write(_ bytes: [UInt8])
    /// Pushes buffered output out (before the VMM waits or stops).
    func flush()
    /// Input that arrived, waiting at most `timeout` nanoseconds for some (0: do not wait).
    func read(waitingAtMost timeout: UInt64) -> ConsoleEvent
    /// Whether input may still arrive (false once the input reached its end): a guest halted with no timer
    /// armed can then never wake.
    var mayProvideInput: Bool { get }
}

/// What reading the console returned.
public enum ConsoleEvent: Equatable, Sendable {
    /// No input.
    case none
    /// Bytes for the guest.
    case input([UInt8])
    /// The user asked to quit (Ctrl-A x).
    case quit
}

/// A console with no input that keeps the guest's output (tests, `--stats` runs with output captured).
public final class CapturingConsole: ConsoleIO {
    /// Everything the guest wrote.
    public private(set) var output: [UInt8] = []
    /// Bytes handed to the guest on its first read.
    public var pendingInput: [UInt8]
    /// Called with each chunk of output as it arrives.
    public var echo: (([UInt8]) -> Void)?
    /// Creates the console, optionally with input already typed.
    public init(input: [UInt8] = []) { pendingInput = input }
    /// Appends the bytes.
    public func write(_ bytes: [UInt8]) { output += bytes; echo?(bytes) }
    /// Nothing to push.
    public func flush() {}
    /// Returns the pending input once.
    public func read(waitingAtMost timeout: UInt64) -> ConsoleEvent {
        guard !pendingInput.isEmpty else { return .none }
        defer { pendingInput.removeAll() }
        return .input(pendingInput)
    }
    /// The output as text.
    public var text: String { String(decoding: output, as: UTF8.self) }
    /// Input remains until it has been read.
    public var mayProvideInput: Bool { !pendingInput.isEmpty }
}

/// How a run ended.
public enum MachineOutcome: Equatable, Sendable, CustomStringConvertible {
    /// The guest powered off (ACPI S5).
    case powerOff
    /// The guest wrote V to isa-debug-exit: status `(V << 1) | 1`.
    case debugExit(status: UInt64)
    /// The guest asked for a reset (named source); the machine stops (`swiftvmx run` then boots a new one unless
    /// `--no-reboot`, QEMU's flag).
    case reset(String)
    /// The vCPU entered the shutdown state (a triple fault).
    case tripleFault(rip: UInt64)
    /// The guest halted with interrupts disabled, or with no timer armed and no input to come: nothing can
    /// wake it ("System halted").
    case halted(rip: UInt64)
    /// The user quit from the console.
    case quit
    /// The instruction limit given to `run` was reached.
    case instructionLimit(UInt64)
    /// The VMM stopped on an error it explains.
    case error(String)

    /// Exit status when the guest halted with nothing to wake it (a hang, not a success).
    public static let haltedStatus: Int32 = 2
    /// Exit status when the guest asked for a reset and the machine stopped instead of rebooting.
    public static let resetStatus: Int32 = 4
    /// Exit status when the user quit from the console.
    public static let quitStatus: Int32 = 6

    /// The process exit status for this outcome: 0 for a power-off, `(V << 1) | 1` for isa-debug-exit (odd,
    /// QEMU's convention), 1 for a fatal error, and distinct even statuses for a guest halted forever (2), a
    /// reset that stopped the machine (4) and a console quit (6), so a harness tells a hang from success.
    public var exitStatus: Int32 {
        switch self {
        case .powerOff: return 0
        case .halted: return Self.haltedStatus
        case .reset: return Self.resetStatus
        case .quit: return Self.quitStatus
        case .debugExit(let status): return Int32(truncatingIfNeeded: status & 0xFF)
        case .tripleFault, .instructionLimit, .error: return 1
        }
    }

    /// One line for the user.
    public var description: String {
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        switch self {
        case .powerOff: return "guest powered off"
        case .debugExit(let s): return "guest wrote to isa-debug-exit: exit status \(s)"
        case .reset(let source): return "guest requested a reset (\(source)); stopped instead of rebooting"
        case .tripleFault(let rip): return "triple fault (shutdown state) at rip=\(hex(rip))"
        case .halted(let rip): return "guest halted at rip=\(hex(rip)) with interrupts disabled or no timer armed and no input to come; nothing can wake it"
        case .quit: return "quit from the console"
        case .instructionLimit(let n): return "stopped after \(n) instructions (limit reached)"
        case .error(let text): return text
        }
    }
}

/// A PC: RAM, 8259A pair, 8254, port 0x61, MC146818, 16550A COM1, debug console, isa-debug-exit, and the
/// kernel loaded by its boot protocol; one vCPU in VMX non-root operation.
public final class PCMachine {
    /// What to build.
    public struct Configuration {
        /// What boots.
        public var boot: BootSource
        /// Guest RAM in bytes.
        public var memorySize: UInt64 = 512 << 20
        /// Where port 0xE9 output goes (nil: discarded).
        public var debugConsole: (any ByteSink)?
        /// How guest time runs.
        public var clock: ClockMode = .realtime
        /// Wall-clock time the RTC starts from (Unix seconds).
        public var startTime: Int64 = 0
        /// Whether the machine has a local APIC and an I/O APIC (CPUID reports the APIC and TSC-deadline
        /// timer, the ACPI tables include a MADT); without, interrupts come from the 8259A pair only.
        public var apic = true
        /// Whether the machine has QEMU's test devices as kvm-unit-tests expects them: pc-testdev (ports 0xE0,
        /// 0xE4, 0xE8, 0x2000 + n, memory at 0xFF000000) beside isa-debug-exit (always present).
        public var testDevices = true
        /// Processors (`--smp`, 1…`PCLayout.maximumProcessors`): vCPUs on the one virtual machine, each with
        /// its local APIC (APIC ID = index). Processor 0 boots; the others wait for INIT and start-up IPIs.
        /// More than one needs `apic`.
        public var processorCount = 1
        /// Intel VT-d remapping hardware at 0xFED90000 (`--device intel-iommu`, PCMachineIOMMU.swift).
        public var intelIOMMU = false
        /// QEMU's edu PCI device at 00:03.0 (`--device edu`).
        public var edu = false
        /// Creates a configuration.
        public init(boot: BootSource) { self.boot = boot }
    }

    /// The virtual machine.
    public let vm: VirtualMachine
    /// The vCPU the VMM is handling now: processor 0's, except while the multiprocessor loop runs another
    /// (PCMachineSMP.swift).
    @exclusivity(unchecked) public internal(set) var vcpu: VCPU
    /// Every vCPU, by processor index (APIC ID).
    public var vcpus: [VCPU] { processors.map(\.vcpu) }
    /// The port-I/O bus.
    public let ports = Bus.portIO()
    /// The MMIO bus.
    public let mmio = Bus.mmio()
    /// The MMIO bus as the handler that completes MMIO accesses (`VCPU.completeMMIO`).
    lazy var mmioHandler = MMIOBusHandler(mmio)
    /// The 8259A pair.
    public let pic: DualPIC
    /// The 8254.
    public let pit: PIT8254
    /// The RTC.
    public let rtc: RTC146818
    /// COM1.
    public let com1: Serial16550A
    /// The local APIC of the processor the VMM is handling now (nil without `Configuration.apic`).
    @exclusivity(unchecked) public internal(set) var localAPIC: LocalAPIC?
    /// The APIC bus between the local APICs (nil with one processor).
    public let apicBus: APICBus?
    /// The I/O APIC (nil without `Configuration.apic`).
    public let ioAPIC: IOAPIC?
    /// The VT-d remapping unit (nil without `Configuration.intelIOMMU`).
    public internal(set) var intelIOMMU: IntelIOMMU?
    /// The edu device (nil without `Configuration.edu`).
    public internal(set) var edu: EduDevice?
    /// Exit statistics (counts and VMM time by reason).
    public let statistics = ExitStatistics()
    /// Called with one JSON line per VM exit when set (`--trace exits`).
    @exclusivity(unchecked) public var exitTrace: ((String) -> Void)?
    /// The gdb attached (GDBSession.swift), consulted before every entry; nil without `--gdb`.
    public internal(set) var debugger: GDBSession?

    /// The configuration, with the boot images emptied once they are loaded (see `BootSource.loaded`).
    private(set) var configuration: Configuration
    let console: any ConsoleIO
    let memoryMap: MemoryMap
    let serialSink = SerialSink()
    let exitRequests = MachineRequests()
    /// The interrupt line of an ISA IRQ: the 8259A input, and with APICs also the I/O APIC pin.
    let irqLine: (Int) -> any InterruptLine

    /// Guest time that passed without instructions retiring: skipped while halted, and the cost of each VM exit
    /// (`PCMachine.exitCost`). Added to the instruction count; also the VMCS TSC offset.
    var skippedTime: UInt64 = 0
    /// The part of `skippedTime` charged for VM exits; the processor's TSC holds it (`chargeExit`), so the VMCS
    /// TSC offset holds the rest.
    var exitTime: UInt64 = 0
    /// Whether the guest executed HLT and waits for an interrupt.
    var halted = false
    /// The primary processor-based controls as last written.
    var primaryControls: PrimaryProcessorControls = []
    /// Whether an event is in the VM-entry interruption-information field for the next entry.
    var injectionPending = false
    /// The host-time origin for realtime runs.
    let hostStart = ContinuousClock.now
    /// Work the VMM did for the guest that the instruction count does not show (elements of REP INS/OUTS),
    /// counted against `run(instructionLimit:)`.
    var emulatedWork: UInt64 = 0
    /// The TPR threshold as last written.
    var tprThreshold: UInt64 = 0
    /// Iterations since the console was last polled.
    var pollCountdown = 0
    /// The VMM-private pages (MSR bitmap, virtual-APIC page), owned by the machine and mapped at
    /// `PCLayout.vmmPrivate` without guest permissions.
    let vmmPrivatePages: UnsafeMutableRawPointer
    /// The VTPR byte of the current processor's virtual-APIC page (offset 0x80), which the VMM reads after
    /// and writes before every entry: a pointer into `vmmPrivatePages`, valid for the machine's lifetime.
    @exclusivity(unchecked) var virtualTPR: UnsafeMutablePointer<UInt8>
    /// Size of the VMM-private pages (`PCLayout.vmmPrivateSize(processors:)`).
    let vmmPrivateSize: UInt64
    /// The processors; the one at `current` has its per-processor state in the machine's own fields
    /// (`vcpu`, `localAPIC`, `halted`…), the others in their record (`switchProcessor(to:)`).
    var processors: [PCProcessor] = []
    /// The index of the processor the VMM is handling now.
    var current = 0
    /// NMI, INIT and start-up IPIs sent during the current exit, applied once it is handled.
    var pendingSignals: [(processor: Int, signal: APICProcessorSignal)] = []

    /// Builds the machine: memory, devices, the boot image loaded and the vCPU's VMCS set up.
    public init(_ configuration: Configuration, console: any ConsoleIO) throws(MachineError) {
        self.configuration = configuration
        self.console = console
        let ram = configuration.memorySize
        guard ram >= 16 << 20 else { throw MachineError("--memory must be at least 16 MiB (got \(ram >> 20) MiB)") }
        guard ram <= 64 << 30 else { throw MachineError("--memory must be at most 65536 MiB (got \(ram >> 20) MiB)") }
        memoryMap = PCLayout.memoryMap(ramSize: ram)
        let count = configuration.processorCount
        guard (1...PCLayout.maximumProcessors).contains(count) else {
            throw MachineError("--smp must be 1–\(PCLayout.maximumProcessors) (got \(count))")
        }
        guard count == 1 || configuration.apic else { throw MachineError("--smp \(count) needs the local APICs (Configuration.apic)") }
        // Zeroed, page-aligned; freed in deinit. The guest never reaches it directly (no permissions):
        // only the processor model's VMX accesses (MSR bitmap, virtual-APIC pages) and the VMM do.
        let privateSize = PCLayout.vmmPrivateSize(processors: count)
        let pages = UnsafeMutableRawPointer.allocate(byteCount: Int(privateSize), alignment: 0x1000)
        pages.initializeMemory(as: UInt8.self, repeating: 0, count: Int(privateSize))
        vmmPrivateSize = privateSize
        vmmPrivatePages = pages
        // Safe: each processor's virtual-APIC page lies inside the private pages (their size counts one per
        // processor), so offset 0x80 of it is in bounds.
        let tprPointers = (0..<count).map { i in
            (pages + Int(PCLayout.virtualAPICPage(processor: i) - PCLayout.vmmPrivate + 0x80)).assumingMemoryBound(to: UInt8.self)
        }
        virtualTPR = tprPointers[0]
        let machineVM = VirtualMachine()
        vm = machineVM
        let cpus = (0..<count).map { _ in machineVM.makeVCPU() }
        let bsp = cpus[0]
        vcpu = bsp

        pic = DualPIC()
        var apics: [LocalAPIC?] = Array(repeating: nil, count: count)
        if configuration.apic {
            let lapics = (0..<count).map { LocalAPIC(id: UInt8($0), busFrequencyHz: PCLayout.apicBusFrequency, tscHz: PCLayout.tscFrequency) }
            let bus = count > 1 ? APICBus(apics: lapics) : nil
            // (The I/O APIC's ID is the MADT's with several processors; 0, as before, with one.)
            let sink: any APICInterruptSink
            if let bus { sink = bus } else { sink = lapics[0] }
            let io = IOAPIC(sink: sink, id: count > 1 ? UInt8(count) : 0)
            for lapic in lapics { lapic.eoiListener = io }
            if bus == nil { lapics[0].nmiHandler = { [weak bsp] in bsp?.raiseNMI() } }
            apics = lapics
            localAPIC = lapics[0]
            ioAPIC = io
            apicBus = bus
        } else {
            localAPIC = nil
            ioAPIC = nil
            apicBus = nil
        }
        let isa = { [pic, ioAPIC] (irq: Int) -> any InterruptLine in
            guard let ioAPIC else { return pic.line(irq) }
            return SplitInterruptLine(pic.line(irq), ioAPIC.line(PCLayout.ioAPICPin(irq: irq)))
        }
        irqLine = isa
        pit = PIT8254(irq0: isa(PCLayout.irqTimer))
        rtc = RTC146818(startTime: configuration.startTime, ramSize: ram)
        com1 = Serial16550A(output: serialSink, interrupt: isa(PCLayout.irqCOM1))
        com1.transmitsInstantly = true
        serialSink.console = console

        let plan = try makePlan()           // a bad image is refused before any memory is allocated
        try mapMemory(holes: plan.segments.filter { $0.kind == .rom }.map { ($0.guestPhysical, $0.size) })
        try mapDevices()
        try load(plan)
        if case let .kernel(image, _, _) = configuration.boot {
            try writeACPITables()
            if !Self.isBzImage(image) { initializePICsAsFirmwareDoes() }
        }
        processors = (0..<count).map { PCProcessor(vcpu: cpus[$0], localAPIC: apics[$0], virtualTPR: tprPointers[$0],
                                                     virtualAPICPage: PCLayout.virtualAPICPage(processor: $0)) }
        for i in processors.indices.reversed() {
            switchProcessor(to: i)
            try setUpControls()
            if i > 0 {
                // An application processor: IA32_APIC_BASE without the BSP flag (bit 8), then INIT's state,
                // waiting for a start-up IPI.
                vcpu.writeMSR(MSRIndex.apicBase, PCLayout.localAPIC | 1 << 11)
                vcpu.initSignal()
            }
        }
        apicBus?.signalProcessor = { [weak self] processor, signal in self?.pendingSignals.append((processor, signal)) }
        // The images are in guest memory now; a reset request stops the machine rather than reloading them.
        self.configuration.boot = configuration.boot.loaded
    }

    deinit {
        // The VM may outlive the machine (`vm` is public): take the pages out of its map, then free them.
        // Safe: allocated in init, freed once here, and no longer reachable through the VM's memory.
        vm.unmap(guestPhysical: PCLayout.vmmPrivate, size: vmmPrivateSize)
        vmmPrivatePages.deallocate()
    }

    // MARK: Memory

    /// Allocates guest RAM (below the 32-bit hole and above 4 GiB), leaving out `holes` (ROM segments,
    /// page-aligned by the firmware loader), and the VMM-private pages.
    func mapMemory(holes: [(start: UInt64, size: UInt64)]) throws(MachineError) {
        let ram = configuration.memorySize
        var ranges: [(start: UInt64, end: UInt64)] = [(0, min(ram, PCLayout.lowRAMLimit))]
        if ram > PCLayout.lowRAMLimit { ranges.append((PCLayout.highRAMStart, PCLayout.highRAMStart + ram - PCLayout.lowRAMLimit)) }
        for hole in holes {
            let holeStart = hole.start & ~0xFFF, holeEnd = (hole.start &+ hole.size &+ 0xFFF) & ~0xFFF
            ranges = ranges.flatMap { r -> [(start: UInt64, end: UInt64)] in
                guard holeStart < r.end && r.start < holeEnd else { return [r] }
                return [(r.start, holeStart), (holeEnd, r.end)].filter { $0.start < $0.end }
            }
        }
        do {
            for r in ranges { try vm.allocate(guestPhysical: r.start, size: r.end - r.start) }
            // VMX's own pages: no guest permissions (a guest access is an EPT violation).
            try vm.map(vmmPrivatePages, guestPhysical: PCLayout.vmmPrivate, size: vmmPrivateSize, permissions: [])
        } catch {
            throw MachineError("cannot allocate \(ram >> 20) MiB of guest memory: \(error)")
        }
    }

    // MARK: Devices

    func mapDevices() throws(MachineError) {
        func port(_ device: any Device, _ base: UInt16, _ length: UInt64, _ name: String) throws(MachineError) {
            do { try ports.map(device, at: UInt64(base), length: length) } catch {
                throw MachineError("internal: \(name): \(error)")
            }
        }
        try port(pic.masterPorts, PCLayout.masterPIC, 2, "master PIC")
        try port(pic.slavePorts, PCLayout.slavePIC, 2, "slave PIC")
        try port(pic.elcrPorts, PCLayout.elcr, 2, "ELCR")
        try port(pit, PCLayout.pit, 4, "PIT")
        try port(SystemControlPortB(pit: pit), PCLayout.systemControlPortB, 1, "port 0x61")
        try port(rtc, PCLayout.rtc, 2, "RTC")
        try port(com1, PCLayout.com1, 8, "COM1")
        try port(DebugConsole(output: configuration.debugConsole ?? DiscardingByteSink()), PCLayout.debugConsole, 1, "debug console")
        try port(ISADebugExit(handler: exitRequests), PCLayout.isaDebugExit, 1, "isa-debug-exit")
        let i8042 = I8042(keyboardIRQ: irqLine(PCLayout.irqKeyboard), auxIRQ: irqLine(PCLayout.irqMouse), resetHandler: exitRequests)
        try port(i8042.dataPort, PCLayout.i8042Data, 1, "i8042 data")
        try port(i8042.commandPort, PCLayout.i8042Command, 1, "i8042 command")
        try port(SystemControlPortA(handler: exitRequests), PCLayout.systemControlPortA, 1, "port 0x92")
        try port(ResetControlRegister(handler: exitRequests), PCLayout.resetControl, 1, "reset control")
        let pci = PCIHost()
        try port(pci.addressPort, PCLayout.pciConfigAddress, 1, "PCI CONFIG_ADDRESS")
        try port(pci.dataPort, PCLayout.pciConfigAddress + 4, 4, "PCI CONFIG_DATA")
        try mapPCIDevices(pci)
        var commandLine: String? = nil
        if case let .kernel(_, _, line) = configuration.boot { commandLine = line }
        try port(FwCfg(ramSize: configuration.memorySize, cpuCount: UInt16(configuration.processorCount), commandLine: commandLine), PCLayout.fwCfg, 2, "fw_cfg")
        try port(ACPIPowerManagement(sci: irqLine(PCLayout.irqSCI), powerOffHandler: exitRequests),
                 PCLayout.acpiPM, UInt64(ACPIPMRegister.blockLength), "ACPI PM")
        if configuration.testDevices {
            // Lines 0–15 are the ISA IRQs (8259A and I/O APIC); 16–23 reach the I/O APIC's upper pins only.
            let testDevice = PCTestDevice { [irqLine, ioAPIC] n in
                n < 16 ? irqLine(n) : (ioAPIC?.line(n) ?? DisconnectedInterruptLine())
            }
            try port(testDevice.testRegister, PCLayout.testDeviceRegister, 4, "pc-testdev register")
            try port(testDevice.flushPage, PCLayout.testDeviceFlushPage, 4, "pc-testdev flush page")
            // Only 0xE8 of the byte-wise view: 0xE9 is the debug console here.
            try port(testDevice.testRegister, PCLayout.testDeviceRegisterBytes, 1, "pc-testdev register (bytes)")
            try port(testDevice.interruptLines, PCLayout.testDeviceInterruptLines, UInt64(PCTestDevice.lineCount), "pc-testdev IRQ lines")
            do { try mmio.map(testDevice.memory, at: PCLayout.testDeviceMemory, length: UInt64(PCTestDevice.memorySize)) } catch {
                throw MachineError("internal: pc-testdev memory: \(error)")
            }
        }
        if let localAPIC, let ioAPIC {
            do {
                // Each processor sees its own APIC at the same address: with several, a window that forwards to
                // the APIC of the processor the VMM is handling.
                let window: any Device = configuration.processorCount > 1 ? LocalAPICWindow(self) : localAPIC
                try mmio.map(window, at: PCLayout.localAPIC, length: 0x1000)
                try mmio.map(ioAPIC, at: PCLayout.ioAPIC, length: 0x1000)
            } catch {
                throw MachineError("internal: APIC mapping: \(error)")
            }
        }
    }

    /// Writes the ACPI tables (RSDP, XSDT/RSDT, FADT, FACS, DSDT with \_S5) at `PCLayout.acpiTables`.
    func writeACPITables() throws(MachineError) {
        var acpi = ACPIConfiguration()
        acpi.pmBase = PCLayout.acpiPM
        acpi.sciInterrupt = UInt8(PCLayout.irqSCI)
        acpi.includeMADT = configuration.apic
        acpi.processorCount = configuration.processorCount
        if intelIOMMU != nil { acpi.dmarRegisterBase = IntelIOMMU.baseAddress }
        do {
            let tables = try ACPITableBuilder.build(at: PCLayout.acpiTables, configuration: acpi)
            guard UInt64(tables.bytes.count) <= PCLayout.acpiTablesSize, vm.memory.write(tables.bytes, at: tables.baseAddress) else {
                throw MachineError("internal: the ACPI tables do not fit at 0x\(String(PCLayout.acpiTables, radix: 16))")
            }
        } catch let error as MachineError {
            throw error
        } catch {
            throw MachineError("internal: ACPI tables: \(error)")
        }
    }

    // MARK: Loading

    /// Runs the boot protocol's loader on the image: the memory contents and entry state, or why not.
    func makePlan() throws(MachineError) -> LoadPlan {
        do {
            switch configuration.boot {
            case let .kernel(image, initrd, commandLine):
                return try Self.plan(kernel: image, initrd: initrd, commandLine: commandLine, memory: memoryMap)
            case let .firmware(rom):
                return try FirmwareLoader.load(rom: rom)
            }
        } catch {
            throw MachineError(error.description)
        }
    }

    /// Copies the plan into guest memory (ROM segments mapped read-only) and sets the entry state.
    func load(_ plan: LoadPlan) throws(MachineError) {
        for segment in plan.segments {
            if segment.kind == .rom {
                do {
                    let host = try vm.allocate(guestPhysical: segment.guestPhysical, size: segment.size, permissions: [.read, .execute])
                    segment.bytes.withUnsafeBytes { source in
                        // Safe: the allocation is `segment.size` ≥ `bytes.count` bytes long.
                        if let base = source.baseAddress { host.copyMemory(from: base, byteCount: source.count) }
                    }
                } catch {
                    throw MachineError("cannot map \(segment.name) at 0x\(String(segment.guestPhysical, radix: 16)): \(error)")
                }
            } else {
                guard vm.memory.write(segment.bytes, at: segment.guestPhysical) else {
                    throw MachineError("\(segment.name) does not fit in guest RAM")
                }
            }
        }
        applyEntryState(plan.entry)
    }

    /// Whether the image is a Linux bzImage ("HdrS" at 0x202).
    static func isBzImage(_ image: [UInt8]) -> Bool {
        image.count > 0x206 && image[0x202] == 0x48 && image[0x203] == 0x64 && image[0x204] == 0x72 && image[0x205] == 0x53
    }

    /// The 8259A pair as a PC BIOS leaves it for a multiboot or ELF kernel (QEMU boots those through its
    /// firmware): initialized (ICW1–4) with vectors 0x08–0x0F and 0x70–0x77, cascade on IRQ 2, every input
    /// unmasked. A Linux kernel programs the PICs itself and starts from reset state.
    func initializePICsAsFirmwareDoes() {
        for (command, data, base, cascade) in [(PCLayout.masterPIC, PCLayout.masterPIC + 1, UInt64(0x08), UInt64(0x04)),
                                               (PCLayout.slavePIC, PCLayout.slavePIC + 1, 0x70, 0x02)] {
            ports.write(address: UInt64(command), size: 1, value: 0x11)      // ICW1: edge, cascade, ICW4 follows
            ports.write(address: UInt64(data), size: 1, value: base)         // ICW2: vector base
            ports.write(address: UInt64(data), size: 1, value: cascade)      // ICW3
            ports.write(address: UInt64(data), size: 1, value: 0x01)         // ICW4: 8086 mode
            ports.write(address: UInt64(data), size: 1, value: 0x00)         // OCW1: nothing masked
        }
    }

    /// Picks the boot protocol from the file's contents: bzImage ("HdrS" at 0x202), multiboot v1 header in
    /// the first 8 KiB, else ELF.
    static func plan(kernel image: [UInt8], initrd: [UInt8]?, commandLine: String,
                     memory: MemoryMap) throws(LoaderError) -> LoadPlan {
        if isBzImage(image) {
            return try LinuxLoader.load(kernel: image, initrd: initrd, commandLine: commandLine, memory: memory)
        }
        var isMultiboot = true
        do { _ = try MultibootHeader.find(in: image) } catch {
            // A header with a bad checksum or flags is a multiboot kernel with a problem: say so.
            guard error == .multibootHeaderNotFound else { throw error }
            isMultiboot = false
        }
        if isMultiboot {
            let modules = initrd.map { [MultibootModule(bytes: $0, string: "initrd")] } ?? []
            return try MultibootLoader.load(kernel: image, modules: modules, commandLine: commandLine, memory: memory)
        }
        if image.count >= 4, image[0] == 0x7F, image[1] == 0x45, image[2] == 0x4C, image[3] == 0x46 {
            return try ELFLoader.load(image, memory: memory)
        }
        let first = image.prefix(4).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        throw .badMagic(what: "kernel image (not a bzImage, multiboot kernel or ELF file; first bytes)",
                        found: first, expected: 0x464C_457F)
    }

    /// Writes a loader's entry state into the guest-state area.
    func applyEntryState(_ e: EntryState) {
        var v = vcpu.vmcs
        v[.guestCR0] = e.cr0 | CR0.ne.rawValue
        v[.cr0ReadShadow] = e.cr0 & Self.cr0OwnedBits     // the guest sees the NE it was started with
        v[.guestCR3] = e.cr3
        v[.guestCR4] = e.cr4 | CR4.vmxe.rawValue
        v[.guestIA32EFER] = e.efer
        v.entryControls.insert(.loadIA32EFER)
        v.exitControls.insert(.saveIA32EFER)
        if e.mode == .long64 { v.entryControls.insert(.ia32eModeGuest) } else { v.entryControls.remove(.ia32eModeGuest) }
        func segment(_ s: SegmentState) -> SegmentRegister {
            SegmentRegister(selector: s.selector, base: s.base, limit: s.limit, accessRights: s.accessRights)
        }
        v.setGuestSegment(.cs, segment(e.cs))
        v.setGuestSegment(.ds, segment(e.ds))
        v.setGuestSegment(.es, segment(e.es))
        v.setGuestSegment(.ss, segment(e.ss))
        v.setGuestSegment(.fs, segment(e.fs))
        v.setGuestSegment(.gs, segment(e.gs))
        v[.guestGDTRBase] = e.gdtr.base
        v[.guestGDTRLimit] = UInt64(e.gdtr.limit)
        v[.guestIDTRBase] = e.idtr.base
        v[.guestIDTRLimit] = UInt64(e.idtr.limit)
        v[.guestRIP] = e.rip
        v[.guestRSP] = e.rsp
        v[.guestRFLAGS] = e.rflags | 2
        vcpu.vmcs = v
        for (r, value) in [(GPR.rax, e.rax), (.rbx, e.rbx), (.rcx, e.rcx), (.rdx, e.rdx), (.rsi, e.rsi), (.rdi, e.rdi), (.rbp, e.rbp)] {
            vcpu.write(r, value)
        }
    }

    /// The execution controls: every I/O instruction exits (the bus is the VMM's), HLT exits (the VMM
    /// idles until the next device deadline), TSC offsetting (halted time), MSR bitmaps (no MSR exits),
    /// CR0.NE and CR4.VMXE owned by the VMM behind the read shadows (PCMachineControlRegisters.swift).
    func setUpControls() throws(MachineError) {
        var v = vcpu.vmcs
        v.primary.formUnion([.unconditionalIOExiting, .hltExiting, .useTSCOffsetting, .useMSRBitmaps])
        v.secondary.formUnion([.enableRDTSCP, .enableINVPCID])           // INVPCID runs without exits
        // With several processors PAUSE (a spin-wait loop's hint) exits: the spinning processor gives the rest
        // of its slice to the others (PCMachineSMP.swift).
        if configuration.processorCount > 1 { v.primary.insert(.pauseExiting) }
        v[.msrBitmap] = PCLayout.msrBitmap
        v[.tscOffset] = 0
        v[.exceptionBitmap] = 0
        v[.cr0GuestHostMask] = Self.cr0OwnedBits
        v[.cr4GuestHostMask] = Self.cr4OwnedBits
        v[.cr4ReadShadow] = 0
        if configuration.apic {
            // CR8 reads and writes the virtual TPR in the virtual-APIC page without exits; IA32_TSC_DEADLINE
            // exits (its bits set in the MSR bitmap's read-low and write-low quarters) to reach the APIC timer.
            v.primary.insert(.useTPRShadow)
            v[.virtualAPICAddress] = processors[current].virtualAPICPage
            v[.tprThreshold] = 0
            for quarter: UInt64 in [0, 2048] { interceptMSR(MSRIndex.tscDeadline, quarter: quarter) }
            interceptX2APICMSRs()                       // PCMachineX2APIC.swift (IA32_APIC_BASE writes too)
        }
        // The machine-check capability and status registers read through the VMM (read-low quarter).
        interceptMSR(Self.machineCheckCapabilities, quarter: 0)
        interceptMSR(Self.machineCheckStatus, quarter: 0)
        primaryControls = v.primary
        vcpu.vmcs = v
    }

    /// Sets MSR `index`'s bit (below 0x2000) in one quarter of the MSR bitmap (0: read-low, 2048: write-low).
    func interceptMSR(_ index: UInt32, quarter: UInt64) {
        let bit = UInt64(index)
        let address = PCLayout.msrBitmap + quarter + bit / 8
        vm.memory.writeInteger(vm.memory.readInteger(at: address, size: 1) | 1 << (bit % 8), at: address, size: 1)
    }

    // MARK: Time

    /// Guest time in nanoseconds: retired instructions plus time skipped while halted.
    public var guestTime: UInt64 { vcpu.instructionCount &+ skippedTime }

    /// Host nanoseconds since the machine was built.
    func hostNanoseconds() -> UInt64 { (ContinuousClock.now - hostStart).nanoseconds }

    /// Brings every device to `now`; returns the earliest deadline.
    func advanceDevices(to now: UInt64) -> UInt64? {
        let p = ports.advance(to: now)
        guard let localAPIC else { return p }
        guard let a = localAPIC.advance(to: now) else { return p }
        return p.map { min($0, a) } ?? a
    }
}

/// One device output driving two interrupt-controller inputs (an ISA IRQ reaches both the 8259A and the
/// I/O APIC on a PC).
final class SplitInterruptLine: InterruptLine {
    let first: any InterruptLine, second: any InterruptLine
    init(_ first: any InterruptLine, _ second: any InterruptLine) { self.first = first; self.second = second }
    func setLevel(_ high: Bool) { first.setLevel(high); second.setLevel(high) }
}

/// COM1's transmitter: bytes go to the console.
final class SerialSink: ByteSink {
    weak var console: (any ConsoleIO)?
    var buffer: [UInt8] = []
    func write(_ byte: UInt8) {
        buffer.append(byte)
        if byte == 10 || buffer.count >= 4096 { flush() }
    }
    func flush() {
        guard !buffer.isEmpty else { return }
        console?.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Requests a device makes of the machine (isa-debug-exit, reset lines, power-off).
final class MachineRequests: ExitRequestHandler, ResetRequestHandler, PowerOffHandler {
    var outcome: MachineOutcome?
    func requestExit(status: UInt64) { if outcome == nil { outcome = .debugExit(status: status) } }
    func requestReset(_ cause: ResetCause) { request(.reset("\(cause)")) }
    func requestPowerOff() { request(.powerOff) }
    func request(_ o: MachineOutcome) { if outcome == nil { outcome = o } }
}
