; A delay the way S3 ROMs wait: PIT channel 2 in mode 3, latched and read until the count
; wraps, 20 times (about 11.4 ms); then the ATI way to find the I/O BAR (port 0x3C3).
%include "header.inc"
init:
        in al, 0x61
        or al, 1
        out 0x61, al            ; gate on
        mov al, 0xB6            ; channel 2, lo/hi, mode 3
        out 0x43, al
        mov al, 0x50
        out 0x42, al
        mov al, 0x05            ; 0x0550 counts: a 570 us period
        out 0x42, al
        mov cx, 20
.next:  mov dx, 0xFFFF
.poll:  mov al, 0x80            ; latch channel 2
        out 0x43, al
        in al, 0x42
        mov ah, al
        in al, 0x42
        xchg al, ah
        cmp ax, dx
        mov dx, ax
        jc .poll                ; still counting down
        loop .next
        mov dx, 0x3C3
        in al, dx
        retf
        times 1024-($-$$) db 0
