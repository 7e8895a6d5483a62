; A loop that calls an interrupt nobody installed (our BIOS's IRET stub) forever.
%include "header.inc"
init:
.again: int 0x60
        jmp .again
        times 1024-($-$$) db 0
