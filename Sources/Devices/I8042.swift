// The 8042 PS/2 keyboard controller with a keyboard on its first port and a
// mouse on its auxiliary port: data port 0x60, status/command port 0x64.
// Port 0x61 (NMI status and control, PIT channel 2 gate) sits between them and
// belongs to another device, so the controller is reached through two
// one-byte entry points, `dataPort` and `commandPort`, mapped separately.
//
// Enough of the controller for Linux's drivers/input/serio/i8042.c to probe
// both ports without errors (self-test, command byte, AUX loopback and AUX
// IRQ delivery test, keyboard and mouse identification) and for atkbd and
// psmouse to configure the devices. Bytes arrive instantly: there is no
// transmission delay, so the controller has no notion of time and its input
// buffer is always empty (IBF reads 0).

/// Status register bits (port 0x64 read).
public enum I8042StatusBit {
    /// Bit 0, OBF: the output buffer (port 0x60) holds a byte for the host.
    public static let outputBufferFull: UInt8 = 1 << 0
    /// Bit 1, IBF: the controller has not yet taken the last byte written (always 0 here).
    public static let inputBufferFull: UInt8 = 1 << 1
    /// Bit 2, SYS: the system flag, a copy of command-byte bit 2 (set after self-test).
    public static let systemFlag: UInt8 = 1 << 2
    /// Bit 3, A2: the last byte written went to port 0x64 (command) rather than 0x60 (data).
    public static let commandData: UInt8 = 1 << 3
    /// Bit 4, INH: the keyboard inhibit switch is off (keyboard not locked); always 1.
    public static let keyboardUnlocked: UInt8 = 1 << 4
    /// Bit 5, AUX OBF: the byte in the output buffer came from the auxiliary (mouse) port.
    public static let auxOutputBufferFull: UInt8 = 1 << 5
    /// Bit 6: receive/transmit timeout (never set here).
    public static let timeout: UInt8 = 1 << 6
    /// Bit 7: parity error (never set here).
    public static let parityError: UInt8 = 1 << 7
}

/// Controller command byte bits (internal RAM byte 0; commands 0x20/0x60).
public enum I8042CommandByteBit {
    /// Bit 0: raise IRQ 1 when the output buffer holds a keyboard byte.
    public static let keyboardInterrupt: UInt8 = 1 << 0
    /// Bit 1: raise IRQ 12 when the output buffer holds an auxiliary byte.
    public static let auxInterrupt: UInt8 = 1 << 1
    /// Bit 2: the system flag (reflected in status bit 2).
    public static let systemFlag: UInt8 = 1 << 2
    /// Bit 3: ignore the keyboard lock (stored only).
    public static let ignoreKeyboardLock: UInt8 = 1 << 3
    /// Bit 4: keyboard interface disabled (its bytes wait in the keyboard).
    public static let keyboardDisabled: UInt8 = 1 << 4
    /// Bit 5: auxiliary interface disabled (its bytes wait in the mouse).
    public static let auxDisabled: UInt8 = 1 << 5
    /// Bit 6: translate keyboard scan codes to set 1 (see `I8042`).
    public static let translate: UInt8 = 1 << 6
}

/// Controller commands (written to port 0x64).
public enum I8042Command {
    /// 0x20: read the command byte (0x21–0x3F read internal RAM bytes 1–31).
    public static let readCommandByte: UInt8 = 0x20
    /// 0x60: write the command byte from the next data byte (0x61–0x7F write RAM bytes 1–31).
    public static let writeCommandByte: UInt8 = 0x60
    /// 0xA7: disable the auxiliary interface (sets command-byte bit 5).
    public static let disableAux: UInt8 = 0xA7
    /// 0xA8: enable the auxiliary interface.
    public static let enableAux: UInt8 = 0xA8
    /// 0xA9: auxiliary interface test; answers 0x00 (no error).
    public static let auxInterfaceTest: UInt8 = 0xA9
    /// 0xAA: controller self-test; answers 0x55 and sets the system flag.
    public static let selfTest: UInt8 = 0xAA
    /// 0xAB: keyboard interface test; answers 0x00 (no error).
    public static let keyboardInterfaceTest: UInt8 = 0xAB
    /// 0xAD: disable the keyboard interface (sets command-byte bit 4).
    public static let disableKeyboard: UInt8 = 0xAD
    /// 0xAE: enable the keyboard interface.
    public static let enableKeyboard: UInt8 = 0xAE
    /// 0xC0: read the input port; answers 0xA0 (keyboard not inhibited, no jumper).
    public static let readInputPort: UInt8 = 0xC0
    /// 0xD0: read the output port.
    public static let readOutputPort: UInt8 = 0xD0
    /// 0xD1: write the output port from the next data byte (bit 0 clear resets, bit 1 is A20).
    public static let writeOutputPort: UInt8 = 0xD1
    /// 0xD2: the next data byte appears in the output buffer as if from the keyboard.
    public static let writeKeyboardOutputBuffer: UInt8 = 0xD2
    /// 0xD3: the next data byte appears in the output buffer as if from the auxiliary device (loopback).
    public static let writeAuxOutputBuffer: UInt8 = 0xD3
    /// 0xD4: the next data byte goes to the auxiliary device (the mouse).
    public static let writeToAux: UInt8 = 0xD4
    /// 0xE0: read the test inputs; answers 0x00.
    public static let readTestInputs: UInt8 = 0xE0
    /// 0xF0–0xFF: pulse the output-port lines whose bit is clear; bit 0 is the reset line (0xFE resets).
    public static let pulseOutputPort: UInt8 = 0xF0
}

/// Bytes the PS/2 devices answer with.
public enum PS2Response {
    /// 0xFA: command acknowledged.
    public static let acknowledge: UInt8 = 0xFA
    /// 0xFE: resend (the command was not understood).
    public static let resend: UInt8 = 0xFE
    /// 0xAA: basic assurance test passed (after a reset).
    public static let selfTestPassed: UInt8 = 0xAA
    /// 0xEE: the echo answer.
    public static let echo: UInt8 = 0xEE
}

/// The state of the PS/2 keyboard on the controller's first port.
public struct PS2KeyboardState: Equatable, Codable, Sendable {
    /// Bytes waiting to go to the controller, oldest first (at most 16).
    public var outputQueue: [UInt8] = []
    /// A command waiting for its parameter byte (0xED LEDs, 0xF0 scan-code set, 0xF3 typematic).
    public var pendingCommand: UInt8?
    /// Whether key presses are reported (0xF4 enable, 0xF5 disable).
    public var scanningEnabled = true
    /// The scan-code set, 1–3.
    public var scanCodeSet: UInt8 = 2
    /// The LED bits (scroll, num, caps lock).
    public var leds: UInt8 = 0
    /// The typematic rate and delay byte.
    public var typematic: UInt8 = 0x2B
    /// The last byte sent (for 0xFE resend).
    public var lastSent: UInt8 = PS2Response.selfTestPassed
    /// The power-on state.
    public init() {}
}

/// The state of the PS/2 mouse on the controller's auxiliary port.
public struct PS2MouseState: Equatable, Codable, Sendable {
    /// Bytes waiting to go to the controller, oldest first (at most 16).
    public var outputQueue: [UInt8] = []
    /// A command waiting for its parameter byte (0xE8 resolution, 0xF3 sample rate).
    public var pendingCommand: UInt8?
    /// Data reporting enabled (0xF4/0xF5).
    public var reportingEnabled = false
    /// Remote mode (0xF0) rather than stream mode (0xEA).
    public var remoteMode = false
    /// 2:1 scaling (0xE7) rather than 1:1 (0xE6).
    public var scaling2to1 = false
    /// Wrap (echo) mode (0xEE until 0xEC).
    public var wrapMode = false
    /// The resolution code, 0–3 (counts per millimetre 1, 2, 4, 8).
    public var resolution: UInt8 = 2
    /// Samples per second.
    public var sampleRate: UInt8 = 100
    /// The last byte sent (for 0xFE resend).
    public var lastSent: UInt8 = PS2Response.selfTestPassed
    /// The power-on state.
    public init() {}
}

/// A byte queued by the controller itself (a command answer or an 0xD2/0xD3 injection).
public struct I8042OutputByte: Equatable, Codable, Sendable {
    /// The byte.
    public var value: UInt8
    /// Whether it presents as auxiliary-port data (status bit 5, IRQ 12).
    public var fromAux: Bool
    /// Creates the byte.
    public init(value: UInt8, fromAux: Bool) {
        self.value = value
        self.fromAux = fromAux
    }
}

/// The complete state of the controller and its two devices.
public struct I8042State: Equatable, Codable, Sendable {
    /// The 32 bytes of internal RAM; byte 0 is the command byte.
    public var internalRAM: [UInt8] = [I8042.powerOnCommandByte] + [UInt8](repeating: 0, count: 31)
    /// The output buffer (port 0x60 read); it keeps its last byte after being read.
    public var outputBuffer: UInt8 = 0
    /// OBF: the output buffer holds an unread byte.
    public var outputBufferFull = false
    /// The byte in the output buffer came from the auxiliary port.
    public var outputFromAux = false
    /// The last write went to the command port (status bit 3).
    public var lastWriteWasCommand = false
    /// A controller command waiting for its data byte (0x60–0x7F, 0xD1–0xD4).
    public var pendingCommand: UInt8?
    /// The output port: bit 0 reset line (1 = running), bit 1 A20 gate; bits 4/5 are read as OBF flags.
    public var outputPort: UInt8 = 0xCF
    /// Controller answers waiting for the output buffer, oldest first (at most 16).
    public var controllerQueue: [I8042OutputByte] = []
    /// The keyboard.
    public var keyboard = PS2KeyboardState()
    /// The mouse.
    public var mouse = PS2MouseState()

    /// The command byte (internal RAM byte 0).
    public var commandByte: UInt8 {
        get { internalRAM.first ?? 0 }
        set {
            if internalRAM.isEmpty { internalRAM = [newValue] } else { internalRAM[0] = newValue }
        }
    }

    /// The power-on state.
    public init() {}
}

/// The 8042 keyboard controller. Map `dataPort` at 0x60 and `commandPort` at
/// 0x64, each with length 1 (0x61 belongs to another device). Other offsets
/// of either entry point read 0xFF and ignore writes.
///
/// IRQ 1 (`keyboardIRQ`) is high while the output buffer holds a keyboard (or
/// controller) byte and command-byte bit 0 is set; IRQ 12 (`auxIRQ`) while it
/// holds an auxiliary byte and bit 1 is set. Reading port 0x60 drops the line
/// before the next queued byte refills the buffer, so an edge-triggered PIC
/// input sees one rising edge per byte.
///
/// The controller command byte powers on as 0x07 (both interrupts enabled,
/// system flag set, no translation): what firmware would leave, except that
/// scan-code translation is off, because this model has no set-2-to-set-1
/// translation table. With command-byte bit 6 set the keyboard identifies as
/// 0xAB 0x41 (the translated ID) instead of 0xAB 0x83; bytes given to
/// `keyboardInput` are always delivered as given.
///
/// A reset request (command 0xFE, any 0xF0–0xFF with bit 0 clear, or an
/// output-port write with bit 0 clear) goes to the injected handler as
/// `ResetCause.keyboardController`.
public final class I8042 {
    /// The command byte at power-on.
    public static let powerOnCommandByte: UInt8 =
        I8042CommandByteBit.keyboardInterrupt | I8042CommandByteBit.auxInterrupt | I8042CommandByteBit.systemFlag
    /// The data port.
    public static let dataPortNumber: UInt16 = 0x60
    /// The status (read) and command (write) port.
    public static let commandPortNumber: UInt16 = 0x64
    /// The ISA IRQ of the keyboard.
    public static let keyboardIRQNumber = 1
    /// The ISA IRQ of the auxiliary device.
    public static let auxIRQNumber = 12
    /// The depth of each device's and the controller's byte queue (the PS/2 buffer size).
    public static let queueCapacity = 16

    /// The controller and device state.
    @exclusivity(unchecked) public private(set) var state = I8042State()
    /// Port 0x60: offset 0 reads the output buffer and writes data.
    public var dataPort: I8042Port { I8042Port(controller: self, register: .data) }
    /// Port 0x64: offset 0 reads the status register and writes commands.
    public var commandPort: I8042Port { I8042Port(controller: self, register: .command) }

    private let keyboardIRQ: any InterruptLine
    private let auxIRQ: any InterruptLine
    private let resetHandler: any ResetRequestHandler
    private var keyboardLevel = false
    private var auxLevel = false

    /// Creates the controller with its interrupt lines (IRQ 1 and IRQ 12) and
    /// the handler that receives its reset requests.
    public init(keyboardIRQ: any InterruptLine = DisconnectedInterruptLine(),
                auxIRQ: any InterruptLine = DisconnectedInterruptLine(),
                resetHandler: any ResetRequestHandler) {
        self.keyboardIRQ = keyboardIRQ
        self.auxIRQ = auxIRQ
        self.resetHandler = resetHandler
    }

    /// Replaces the state (restoring a snapshot); oversized queues are cut to
    /// `queueCapacity` and the internal RAM to 32 bytes.
    public func restore(_ state: I8042State) {
        var state = state
        state.internalRAM = Array((state.internalRAM + [UInt8](repeating: 0, count: 32)).prefix(32))
        state.controllerQueue = Array(state.controllerQueue.prefix(Self.queueCapacity))
        state.keyboard.outputQueue = Array(state.keyboard.outputQueue.prefix(Self.queueCapacity))
        state.mouse.outputQueue = Array(state.mouse.outputQueue.prefix(Self.queueCapacity))
        self.state = state
        refillOutputBuffer()
        updateInterrupts()
    }

    /// The machine reset: the power-on state.
    public func reset() {
        state = I8042State()
        updateInterrupts()
    }

    /// Whether the output port's A20 gate (bit 1) is open.
    public var a20Enabled: Bool { state.outputPort & 0x02 != 0 }

    /// The status register (port 0x64 read).
    public var status: UInt8 {
        var value = I8042StatusBit.keyboardUnlocked
        if state.outputBufferFull {
            value |= I8042StatusBit.outputBufferFull
            if state.outputFromAux { value |= I8042StatusBit.auxOutputBufferFull }
        }
        if state.commandByte & I8042CommandByteBit.systemFlag != 0 { value |= I8042StatusBit.systemFlag }
        if state.lastWriteWasCommand { value |= I8042StatusBit.commandData }
        return value
    }

    /// Bytes the keyboard sends as if keys were pressed (scan codes in the set
    /// the guest selected); dropped while scanning is disabled or the keyboard
    /// buffer is full.
    public func keyboardInput(_ bytes: [UInt8]) {
        guard state.keyboard.scanningEnabled else { return }
        for byte in bytes { Self.enqueue(&state.keyboard.outputQueue, byte) }
        refillOutputBuffer()
        updateInterrupts()
    }

    /// Bytes the mouse sends (movement packets); dropped unless data reporting
    /// is enabled in stream mode, or when the mouse buffer is full.
    public func mouseInput(_ bytes: [UInt8]) {
        guard state.mouse.reportingEnabled, !state.mouse.remoteMode, !state.mouse.wrapMode else { return }
        for byte in bytes { Self.enqueue(&state.mouse.outputQueue, byte) }
        refillOutputBuffer()
        updateInterrupts()
    }

    // MARK: Ports

    /// Port 0x60 read: the output buffer (its last byte again when empty).
    fileprivate func readData() -> UInt8 {
        let value = state.outputBuffer
        if state.outputBufferFull {
            state.outputBufferFull = false
            updateInterrupts()          // the line drops: the next byte makes a new edge
            refillOutputBuffer()
            updateInterrupts()
        }
        return value
    }

    /// Port 0x60 write: the data byte of a pending controller command, or a byte for the keyboard.
    fileprivate func writeData(_ value: UInt8) {
        state.lastWriteWasCommand = false
        if let command = state.pendingCommand {
            state.pendingCommand = nil
            switch command {
            case 0x60...0x7F:
                let index = Int(command & 0x1F)
                if state.internalRAM.indices.contains(index) { state.internalRAM[index] = value }
            case I8042Command.writeOutputPort:
                writeOutputPort(value)
            case I8042Command.writeKeyboardOutputBuffer:
                Self.enqueue(&state.controllerQueue, I8042OutputByte(value: value, fromAux: false))
            case I8042Command.writeAuxOutputBuffer:
                Self.enqueue(&state.controllerQueue, I8042OutputByte(value: value, fromAux: true))
            case I8042Command.writeToAux:
                Self.mouseReceive(&state.mouse, value)
            default:
                break
            }
        } else {
            let translated = state.commandByte & I8042CommandByteBit.translate != 0
            Self.keyboardReceive(&state.keyboard, value, translated: translated)
        }
        refillOutputBuffer()
        updateInterrupts()
    }

    /// Port 0x64 write: a controller command.
    fileprivate func writeCommand(_ command: UInt8) {
        state.lastWriteWasCommand = true
        state.pendingCommand = nil
        switch command {
        case 0x20...0x3F:
            let index = Int(command & 0x1F)
            reply(state.internalRAM.indices.contains(index) ? state.internalRAM[index] : 0)
        case 0x60...0x7F, I8042Command.writeOutputPort, I8042Command.writeKeyboardOutputBuffer,
             I8042Command.writeAuxOutputBuffer, I8042Command.writeToAux:
            state.pendingCommand = command
        case I8042Command.disableAux:
            state.commandByte |= I8042CommandByteBit.auxDisabled
        case I8042Command.enableAux:
            state.commandByte &= ~I8042CommandByteBit.auxDisabled
        case I8042Command.auxInterfaceTest, I8042Command.keyboardInterfaceTest, I8042Command.readTestInputs:
            reply(0x00)
        case I8042Command.selfTest:
            state.commandByte |= I8042CommandByteBit.systemFlag
            reply(0x55)
        case I8042Command.disableKeyboard:
            state.commandByte |= I8042CommandByteBit.keyboardDisabled
        case I8042Command.enableKeyboard:
            state.commandByte &= ~I8042CommandByteBit.keyboardDisabled
        case I8042Command.readInputPort:
            reply(0xA0)
        case I8042Command.readOutputPort:
            var value = state.outputPort & ~0x30
            if state.outputBufferFull { value |= state.outputFromAux ? 0x20 : 0x10 }
            reply(value)
        case 0xF0...0xFF:
            if command & 0x01 == 0 { resetHandler.requestReset(.keyboardController) }
        default:
            break                                   // unknown commands are ignored
        }
        refillOutputBuffer()
        updateInterrupts()
    }

    private func writeOutputPort(_ value: UInt8) {
        state.outputPort = value
        if value & 0x01 == 0 { resetHandler.requestReset(.keyboardController) }
    }

    private func reply(_ value: UInt8) {
        Self.enqueue(&state.controllerQueue, I8042OutputByte(value: value, fromAux: false))
    }

    // MARK: Output buffer and interrupts

    /// Moves the next byte into an empty output buffer: controller answers
    /// first, then the keyboard (if its interface is enabled), then the mouse.
    private func refillOutputBuffer() {
        guard !state.outputBufferFull else { return }
        let commandByte = state.commandByte
        if !state.controllerQueue.isEmpty {
            let byte = state.controllerQueue.removeFirst()
            fill(byte.value, fromAux: byte.fromAux)
        } else if commandByte & I8042CommandByteBit.keyboardDisabled == 0, !state.keyboard.outputQueue.isEmpty {
            fill(state.keyboard.outputQueue.removeFirst(), fromAux: false)
        } else if commandByte & I8042CommandByteBit.auxDisabled == 0, !state.mouse.outputQueue.isEmpty {
            fill(state.mouse.outputQueue.removeFirst(), fromAux: true)
        }
    }

    private func fill(_ value: UInt8, fromAux: Bool) {
        state.outputBuffer = value
        state.outputFromAux = fromAux
        state.outputBufferFull = true
    }

    private func updateInterrupts() {
        let commandByte = state.commandByte
        let keyboard = state.outputBufferFull && !state.outputFromAux
            && commandByte & I8042CommandByteBit.keyboardInterrupt != 0
        let aux = state.outputBufferFull && state.outputFromAux
            && commandByte & I8042CommandByteBit.auxInterrupt != 0
        if keyboard != keyboardLevel {
            keyboardLevel = keyboard
            keyboardIRQ.setLevel(keyboard)
        }
        if aux != auxLevel {
            auxLevel = aux
            auxIRQ.setLevel(aux)
        }
    }

    private static func enqueue<Element>(_ queue: inout [Element], _ element: Element) {
        if queue.count < queueCapacity { queue.append(element) }
    }

    // MARK: Keyboard

    private static func keyboardSend(_ keyboard: inout PS2KeyboardState, _ byte: UInt8) {
        keyboard.lastSent = byte
        enqueue(&keyboard.outputQueue, byte)
    }

    private static func keyboardDefaults(_ keyboard: inout PS2KeyboardState) {
        keyboard.outputQueue.removeAll()
        keyboard.pendingCommand = nil
        keyboard.scanCodeSet = 2
        keyboard.leds = 0
        keyboard.typematic = 0x2B
    }

    /// A byte from the host to the keyboard (commands of the IBM PS/2 keyboard).
    private static func keyboardReceive(_ keyboard: inout PS2KeyboardState, _ byte: UInt8, translated: Bool) {
        let ack = PS2Response.acknowledge
        if let command = keyboard.pendingCommand {
            keyboard.pendingCommand = nil
            switch command {
            case 0xED:                                  // set LEDs
                keyboard.leds = byte & 0x07
                keyboardSend(&keyboard, ack)
            case 0xF3:                                  // set typematic rate/delay
                keyboard.typematic = byte & 0x7F
                keyboardSend(&keyboard, ack)
            default:                                    // 0xF0: get/set scan-code set
                switch byte {
                case 0:
                    keyboardSend(&keyboard, ack)
                    // Set numbers 1, 2, 3 as the controller translates them (0x43, 0x41, 0x3F).
                    let translatedSet: [UInt8] = [0x43, 0x41, 0x3F]
                    let set = keyboard.scanCodeSet
                    let index = Int(set &- 1)
                    keyboardSend(&keyboard, translated && translatedSet.indices.contains(index) ? translatedSet[index] : set)
                case 1...3:
                    keyboard.scanCodeSet = byte
                    keyboardSend(&keyboard, ack)
                default:
                    keyboardSend(&keyboard, PS2Response.resend)
                }
            }
            return
        }
        switch byte {
        case 0xED, 0xF0, 0xF3:                          // commands with a parameter byte
            keyboard.pendingCommand = byte
            keyboardSend(&keyboard, ack)
        case 0xEE:                                      // echo
            keyboardSend(&keyboard, PS2Response.echo)
        case 0xF2:                                      // identify: MF2 keyboard
            keyboardSend(&keyboard, ack)
            keyboardSend(&keyboard, 0xAB)
            keyboardSend(&keyboard, translated ? 0x41 : 0x83)
        case 0xF4:                                      // enable scanning
            keyboard.outputQueue.removeAll()
            keyboard.scanningEnabled = true
            keyboardSend(&keyboard, ack)
        case 0xF5:                                      // disable scanning, set defaults
            keyboardDefaults(&keyboard)
            keyboard.scanningEnabled = false
            keyboardSend(&keyboard, ack)
        case 0xF6:                                      // set defaults, enable scanning
            keyboardDefaults(&keyboard)
            keyboard.scanningEnabled = true
            keyboardSend(&keyboard, ack)
        case 0xF7...0xFD:                               // set-3 key types: accepted, no effect
            keyboardSend(&keyboard, ack)
        case 0xFE:                                      // resend
            enqueue(&keyboard.outputQueue, keyboard.lastSent)
        case 0xFF:                                      // reset: ACK, then BAT passed
            keyboardDefaults(&keyboard)
            keyboard.scanningEnabled = true
            keyboardSend(&keyboard, ack)
            keyboardSend(&keyboard, PS2Response.selfTestPassed)
        default:
            keyboardSend(&keyboard, PS2Response.resend)
        }
    }

    // MARK: Mouse

    private static func mouseSend(_ mouse: inout PS2MouseState, _ byte: UInt8) {
        mouse.lastSent = byte
        enqueue(&mouse.outputQueue, byte)
    }

    private static func mouseDefaults(_ mouse: inout PS2MouseState) {
        mouse.pendingCommand = nil
        mouse.reportingEnabled = false
        mouse.remoteMode = false
        mouse.scaling2to1 = false
        mouse.resolution = 2
        mouse.sampleRate = 100
    }

    /// A byte from the host to the mouse (commands of the IBM PS/2 mouse).
    private static func mouseReceive(_ mouse: inout PS2MouseState, _ byte: UInt8) {
        let ack = PS2Response.acknowledge
        if let command = mouse.pendingCommand {
            mouse.pendingCommand = nil
            if command == 0xE8 { mouse.resolution = byte & 0x03 } else { mouse.sampleRate = byte }
            mouseSend(&mouse, ack)
            return
        }
        if mouse.wrapMode && byte != 0xEC && byte != 0xFF {
            mouseSend(&mouse, byte)                     // wrap mode echoes everything else
            return
        }
        switch byte {
        case 0xE6:                                      // scaling 1:1
            mouse.scaling2to1 = false
            mouseSend(&mouse, ack)
        case 0xE7:                                      // scaling 2:1
            mouse.scaling2to1 = true
            mouseSend(&mouse, ack)
        case 0xE8, 0xF3:                                // set resolution / sample rate (parameter follows)
            mouse.pendingCommand = byte
            mouseSend(&mouse, ack)
        case 0xE9:                                      // status request: ACK + 3 bytes
            mouseSend(&mouse, ack)
            var first: UInt8 = 0
            if mouse.remoteMode { first |= 0x40 }
            if mouse.reportingEnabled { first |= 0x20 }
            if mouse.scaling2to1 { first |= 0x10 }
            mouseSend(&mouse, first)
            mouseSend(&mouse, mouse.resolution)
            mouseSend(&mouse, mouse.sampleRate)
        case 0xEA:                                      // stream mode
            mouse.remoteMode = false
            mouseSend(&mouse, ack)
        case 0xEB:                                      // read data: ACK + an empty packet
            mouseSend(&mouse, ack)
            mouseSend(&mouse, 0x08)
            mouseSend(&mouse, 0x00)
            mouseSend(&mouse, 0x00)
        case 0xEC:                                      // reset wrap mode
            mouse.wrapMode = false
            mouseSend(&mouse, ack)
        case 0xEE:                                      // wrap mode
            mouse.wrapMode = true
            mouseSend(&mouse, ack)
        case 0xF0:                                      // remote mode
            mouse.remoteMode = true
            mouseSend(&mouse, ack)
        case 0xF2:                                      // identify: standard PS/2 mouse
            mouseSend(&mouse, ack)
            mouseSend(&mouse, 0x00)
        case 0xF4:                                      // enable data reporting
            mouse.reportingEnabled = true
            mouseSend(&mouse, ack)
        case 0xF5:                                      // disable data reporting
            mouse.reportingEnabled = false
            mouseSend(&mouse, ack)
        case 0xF6:                                      // set defaults
            mouseDefaults(&mouse)
            mouseSend(&mouse, ack)
        case 0xFE:                                      // resend
            enqueue(&mouse.outputQueue, mouse.lastSent)
        case 0xFF:                                      // reset: ACK, BAT passed, ID 0
            mouse.outputQueue.removeAll()
            mouseDefaults(&mouse)
            mouse.wrapMode = false
            mouseSend(&mouse, ack)
            mouseSend(&mouse, PS2Response.selfTestPassed)
            mouseSend(&mouse, 0x00)
        default:
            mouseSend(&mouse, PS2Response.resend)
        }
    }
}

/// One entry point of the 8042, as a one-byte `Device` to map on the port bus.
public final class I8042Port: ByteRegisterDevice {
    /// Which register the entry point reaches.
    public enum Register: Sendable {
        /// Port 0x60: output buffer (read), data (write).
        case data
        /// Port 0x64: status (read), command (write).
        case command
    }

    private let controller: I8042
    /// The register this entry point reaches.
    public let register: Register

    fileprivate init(controller: I8042, register: Register) {
        self.controller = controller
        self.register = register
    }

    /// Offset 0 reads the output buffer (data) or the status register (command); 0xFF elsewhere.
    public func readByte(offset: UInt64) -> UInt8 {
        guard offset == 0 else { return 0xFF }
        switch register {
        case .data: return controller.readData()
        case .command: return controller.status
        }
    }

    /// Offset 0 writes a data byte (data) or a controller command (command); other offsets are ignored.
    public func writeByte(offset: UInt64, value: UInt8) {
        guard offset == 0 else { return }
        switch register {
        case .data: controller.writeData(value)
        case .command: controller.writeCommand(value)
        }
    }
}
