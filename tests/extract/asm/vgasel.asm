; VGA I/O address select: before the misc output register is written both CRTC ranges
; decode; after it, only the one its bit 0 selects. Each value read is echoed to port 0x80.
%include "header.inc"
init:
        mov dx, 0x3B4           ; mono CRTC, misc output not yet written
        mov ax, 0xAA0D
        out dx, ax
        inc dx
        in al, dx
        out 0x80, al            ; echo 1: 0xAA (decoded)
        mov dx, 0x3C2
        mov al, 0x01            ; colour addressing
        out dx, al
        mov dx, 0x3CC
        in al, dx
        out 0x80, al            ; echo 2: 0x01 (misc output read back)
        mov dx, 0x3B4
        mov ax, 0x550D          ; another adapter's port now: not ours
        out dx, ax
        inc dx
        in al, dx
        out 0x80, al            ; echo 3: 0xFF (floating bus)
        mov dx, 0x3D4
        mov ax, 0x660D
        out dx, ax
        inc dx
        in al, dx
        out 0x80, al            ; echo 4: 0x66
        mov dx, 0x3C2
        xor al, al              ; monochrome addressing
        out dx, al
        mov dx, 0x3DA
        in al, dx
        out 0x80, al            ; echo 5: 0xFF (floating bus)
        mov dx, 0x3B5
        in al, dx
        out 0x80, al            ; echo 6: 0xAA (what was written while it decoded)
        retf
        times 1024-($-$$) db 0
