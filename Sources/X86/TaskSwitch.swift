// Hardware task switching (SDM Vol. 3A chapter 8).

/// What started a task switch (SDM Vol. 3A §8.3); decides busy bits, NT and the back link.
enum TaskSwitchReason {
    case call, jump, iret, interrupt
}

extension CPU {
    /// Switches to the task whose TSS `selector` names.
    func taskSwitch(to selector: UInt16, reason: TaskSwitchReason, errorCode: UInt32?) throws(Abort) {
        throw Abort.exception(10, UInt32(selector & 0xFFFC))
    }

    /// IRET with NT set: returns to the task in the back link of the current TSS.
    func taskReturn() throws(Abort) {
        throw Abort.exception(10, 0)
    }
}
