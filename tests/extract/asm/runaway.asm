; A wild jump: into zero-filled RAM at 2000:0000, where `add [bx+si], al` runs forever.
%include "header.inc"
init:
        jmp 0x2000:0x0000
        times 1024-($-$$) db 0
