; NVIDIA's register window in the I/O BAR (BAR5): address at +8, data at +12. Writes a
; register, reads the config-space mirror at 0x88000, reads the register back.
%include "header.inc"
init:
        mov eax, 0x80001024     ; 00:02.0, BAR5
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        and ax, 0xFFFC
        mov dx, ax              ; dx = I/O BAR
        add dx, 8
        mov eax, 0x200
        out dx, eax             ; address 0x200
        add dx, 4
        mov eax, 0xCAFE
        out dx, eax             ; register 0x200 = 0xCAFE
        sub dx, 4
        mov eax, 0x88000
        out dx, eax             ; address 0x88000: config space
        add dx, 4
        in eax, dx              ; the ids
        sub dx, 4
        mov eax, 0x200
        out dx, eax
        add dx, 4
        in eax, dx              ; register 0x200 again
        retf
        times 1024-($-$$) db 0
