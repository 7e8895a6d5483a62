; NVIDIA's PROM: BAR0 0x300000 reads the ROM chip; register 0x1A40 (address | 1) shows
; BAR0 from that address in the legacy window at A0000. Reads past the chip's end.
%include "header.inc"
init:
        mov eax, 0x80001010     ; 00:02.0, BAR0
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        and eax, 0xFFFFFFF0
        mov ebx, eax            ; ebx = BAR0 (big real mode: DS reaches 4 GiB)
        xor ax, ax
        mov ds, ax
        mov eax, [ebx + 0x300000]       ; the chip's first bytes: 55 AA 02 E9
        mov eax, [ebx + 0x300400]       ; byte 0x400: past a 1 KiB chip
        mov dword [ebx + 0x1A40], 0x00300001
        mov ax, 0xA000
        mov es, ax
        mov ax, [es:0]          ; the chip again, through the legacy window
        mov dword [ebx + 0x1A40], 0
        mov ax, [es:0]          ; the window is VGA memory again
        retf
        times 1024-($-$$) db 0
