; ATI's register window: MM_INDEX (I/O BAR + 0) and MM_DATA (+4), the I/O BAR found the
; ATI way (port 0x3C3 answers its upper byte). Writes two registers through the pair,
; reads the first back, then polls it the way an ATOM interpreter runs
; `COMPARE reg[31:24], 0x30; JUMP_NE`: the field is compared as a 16-bit value, so only
; a value with 0x30 in bits 31:24 ends the loop. Last, a frame-buffer word through
; MM_INDEX bit 31.
%include "header.inc"
init:
        mov dx, 0x3C3
        in al, dx
        mov dh, al
        xor dl, dl              ; dx = I/O BAR
        mov eax, 0x5DA8
        out dx, eax             ; MM_INDEX = 0x5DA8
        mov dl, 4
        mov eax, 0x8400FF00
        out dx, eax             ; register 0x5DA8 = 0x8400FF00
        mov dl, 0
        mov eax, 0x1234
        out dx, eax             ; MM_INDEX = 0x1234
        mov dl, 4
        mov eax, 0x11
        out dx, eax             ; register 0x1234 = 0x11
        mov dl, 0
        mov eax, 0x5DA8
        out dx, eax
        mov dl, 4
        in eax, dx              ; register 0x5DA8 again
poll:
        mov dl, 0
        mov eax, 0x5DA8
        out dx, eax
        mov dl, 4
        in eax, dx
        shr eax, 24
        cmp ax, 0x30
        jne poll
        mov dl, 0
        mov eax, 0x80001000
        out dx, eax             ; MM_INDEX: frame buffer offset 0x1000
        mov dl, 4
        mov eax, 0xCAFEBABE
        out dx, eax
        in eax, dx              ; read back
        retf
        times 1024-($-$$) db 0
