; NVIDIA's PTIMER: waits 1 ms reading TIME_0 (0x9400) through the I/O BAR window, then
; 2 ms reading it at BAR0 directly, the way NVIDIA ROMs delay.
%include "header.inc"
init:
        mov eax, 0x80001024     ; 00:02.0, BAR5 (I/O)
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        and ax, 0xFFFC
        mov si, ax              ; si = I/O BAR
        mov eax, 0x80001010     ; BAR0
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        and eax, 0xFFFFFFF0
        mov ebx, eax            ; ebx = BAR0
        xor ax, ax
        mov ds, ax
        call window_time
        mov ecx, eax            ; start
.wait1: call window_time
        sub eax, ecx
        cmp eax, 1000000
        jb .wait1
        mov ecx, [ebx + 0x9400]
.wait2: mov eax, [ebx + 0x9400]
        sub eax, ecx
        cmp eax, 2000000
        jb .wait2
        retf
window_time:                    ; eax = TIME_0 through the window
        mov dx, si
        add dx, 8
        mov eax, 0x9400
        out dx, eax
        add dx, 4
        in eax, dx
        ret
        times 1024-($-$$) db 0
