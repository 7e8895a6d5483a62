; Address decode: a BAR in big real mode, legacy VGA I/O and memory, another port, the I/O
; BAR, then VGA decode switched off through the command register.
%include "header.inc"
init:
        xor ax, ax
        mov es, ax              ; keeps the 4 GiB limit SeaBIOS-style entry gave it
        mov dx, 0xCF8
        mov eax, 0x80001010
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        and eax, 0xFFFFFFF0
        mov ebx, eax
        mov eax, [es:ebx+0x10]  ; 32-bit MMIO read at BAR0 + 0x10
        mov word [es:ebx+0x22], 0xBEEF
        mov dx, 0x3C4
        mov ax, 0x0102
        out dx, ax              ; vga_io word
        mov ax, 0xA000
        mov es, ax
        mov byte [es:0x0010], 0x55   ; vga_mem
        mov al, 0x42
        out 0x80, al            ; a port outside every window
        mov dx, 0xCF8
        mov eax, 0x80001014     ; BAR1 (I/O)
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        and ax, 0xFFFC
        mov dx, ax
        add dx, 4
        in al, dx               ; io bar 1 offset 4
        mov dx, 0xCF8
        mov eax, 0x80001004
        out dx, eax
        mov dx, 0xCFC
        xor ax, ax
        out dx, ax              ; command = 0: no decode
        mov dx, 0x3C4
        mov al, 7
        out dx, al              ; now a plain port
        retf
        times 1024-($-$$) db 0
