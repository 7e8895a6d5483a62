; Entry points for the stop reasons: offset 3 spins; the variants below are reached by
; patching the jump in the test.
%include "header.inc"
init:
        jmp init                ; spins: budget
        times 0x20-($-$$) db 0x90
hang:   cli
        hlt                     ; at 0x20: halted
        times 0x30-($-$$) db 0x90
bad:    ud2                     ; at 0x30: invalid opcode
        times 0x40-($-$$) db 0x90
boot:   int 0x19                ; at 0x40: boot request
        times 1024-($-$$) db 0
