; Sums and xors the 256 bytes at DS:0, then calls a near routine and returns far.
; Loaded at 1000:0000 with DS=2000h (bytes i*7+3), SS:SP=3000:1000.
bits 16
org 0
start:
    xor ax, ax
    xor bx, bx
    mov cx, 256
    xor si, si
    cld
.loop:
    lodsb                ; AL = [DS:SI], SI++
    add bl, al
    adc bh, 0
    xor ah, al
    loop .loop
    call square
    mov dx, 0x1234
    shl dx, 4            ; 0x2340, CF=1 (bit 12 of 0x1234 shifted out), OF=1
    retf
square:
    mov di, bx
    imul di, di, 3
    ret
