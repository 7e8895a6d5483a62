; gpu-init reference card option ROM (x86, real mode). Register layout: devices/maps/gpuinit-ref.json,
; described in docs/reference-card.md. Assembled with nasm as a flat binary; the build then
; sets the last byte so that all bytes sum to 0 (mod 256).
;
; The init entry at offset 3 does what vendor video BIOSes do, so that every reduction pass has
; work: PCI BIOS look-ups, a soft reset, PLL programming with a LOCK poll, a port-0x61 delay,
; memory training with a TRAINING_DONE poll, CRTC timings through VGA index/data, a palette
; with rep outsb, redundant writes, read-modify-writes, clearing W1C status; then a far return.

        bits 16
        cpu 486
        org 0

VENDOR_ID       equ 0xF00D
DEVICE_ID       equ 0x0A01
ROM_BLOCKS      equ 4                   ; 4 * 512 = 2 KiB

; BAR0 (MMIO) register offsets
REG_ID          equ 0x0000
REG_STRAPS      equ 0x0004
REG_SOFT_RESET  equ 0x0008
REG_SCRATCH0    equ 0x000C
REG_SCRATCH1    equ 0x0010
REG_INT_STATUS  equ 0x0020
REG_INT_ENABLE  equ 0x0024
REG_DISPLAY     equ 0x0030
REG_FB_BASE     equ 0x0034
CHIP_ID         equ 0x47490100

; BAR1 (I/O) index/data pair into the PLL/memory-controller bank
IO_BANK_INDEX   equ 0x10
IO_BANK_DATA    equ 0x14
PLL_CTRL        equ 0x00
PLL_DIV         equ 0x01
PLL_STATUS      equ 0x02
MC_CTRL         equ 0x08
MC_TIMING       equ 0x09
MC_STATUS       equ 0x0A

POLL_LIMIT      equ 1000                ; reads before a poll gives up (10 ms)
POLL_WAIT_US    equ 10                  ; INT 15h/86h wait between two reads of a poll
DELAY_TOGGLES   equ 66                  ; ~1 ms of 15 us refresh toggles
DELAY_PACE      equ 1000                ; register-only spin (~2 us) between two port-0x61 reads

; Locals kept on the stack frame (BP-relative)
%define MMIO    dword [bp-4]
%define IOBASE  word [bp-6]
%define BDF     word [bp-8]

; ---------------------------------------------------------------------------------------
rom_start:
        db 0x55, 0xAA                   ; signature
        db ROM_BLOCKS                   ; size in 512-byte blocks
        jmp init                        ; init entry at offset 3
        times 0x18 - ($ - rom_start) db 0
        dw pcir                         ; 0x18: PCI data structure
        dw 0                            ; 0x1A: no PnP header

        align 4
pcir:   db 'PCIR'
        dw VENDOR_ID
        dw DEVICE_ID
        dw 0                            ; vital product data
        dw pcir_end - pcir              ; structure length
        db 0                            ; structure revision
        db 0x00, 0x00, 0x03             ; class code: VGA-compatible display controller
        dw ROM_BLOCKS                   ; image length in 512-byte blocks
        dw 0x0100                       ; code revision
        db 0                            ; code type: x86
        db 0x80                         ; last image
        dw 0                            ; reserved
pcir_end:

signon: db 'gpu-init reference card ROM 1.0', 0

; ---------------------------------------------------------------------------------------
; Entry: AX = bus/devfn of our device (as a PC BIOS passes it). Returns far; preserves
; all registers.
init:
        pushfd
        pushad
        push ds
        push es
        push fs
        push bp
        mov bp, sp
        sub sp, 8
        mov BDF, ax
        xor ax, ax
        mov fs, ax                      ; FS:EBX reaches the BAR (4 GiB limits as the BIOS left them)

        ; PCI BIOS present?
        mov ax, 0xB101
        xor edi, edi
        int 0x1A
        jc .fail
        cmp edx, 0x20494350             ; 'PCI '
        jne .fail

        ; Find our device and check it is the one we were started for.
        mov ax, 0xB102
        mov cx, DEVICE_ID
        mov dx, VENDOR_ID
        xor si, si
        int 0x1A
        jc .fail
        cmp bx, BDF
        jne .fail

        ; BAR0: 32-bit memory; BAR1: I/O.
        mov ax, 0xB10A
        mov bx, BDF
        mov di, 0x10
        int 0x1A
        jc .fail
        and ecx, 0xFFFFFFF0
        jz .fail
        mov MMIO, ecx
        mov ax, 0xB10A
        mov bx, BDF
        mov di, 0x14
        int 0x1A
        jc .fail
        test cl, 1
        jz .fail
        and cx, 0xFFFC
        mov IOBASE, cx

        ; Is it our chip?
        mov ebx, MMIO
        mov eax, [fs:ebx + REG_ID]
        cmp eax, CHIP_ID
        jne .fail
        mov eax, [fs:ebx + REG_STRAPS]  ; straps: memory size (kept for the timing choice)
        mov esi, eax

        ; Progress code, written twice: the first write is dead.
        mov dword [fs:ebx + REG_SCRATCH0], 0
        mov dword [fs:ebx + REG_SCRATCH0], 1

        ; Soft reset: assert every block, then release.
        mov dword [fs:ebx + REG_SOFT_RESET], 7
        mov dword [fs:ebx + REG_SOFT_RESET], 0

        ; PLL: dividers, then enable out of power-down; poll LOCK.
        mov dx, IOBASE
        mov al, PLL_DIV
        call bank_select
        mov eax, 0x00023A07             ; M=7 N=58 P=2
        call bank_write
        mov al, PLL_CTRL
        call bank_select
        mov eax, 0x00000004             ; still powered down
        call bank_write
        mov eax, 0x00000001             ; ENABLE, PD clear
        call bank_write
        mov al, PLL_STATUS
        call bank_select
        mov ecx, POLL_LIMIT
.pll_poll:
        call bank_read
        test al, 1
        jnz .pll_locked
        call poll_wait
        dec ecx
        jnz .pll_poll
        jmp .fail
.pll_locked:
        mov dword [fs:ebx + REG_SCRATCH0], 2

        ; Let the clock settle: ~1 ms by counting port-0x61 refresh toggles.
        call delay_1ms

        ; Memory controller: timings chosen by the strap, then training.
        mov dx, IOBASE
        mov al, MC_TIMING
        call bank_select
        mov eax, 0x00036633
        test si, 2                      ; MEM_SIZE >= 64 MiB: slower CAS
        jz .timing
        mov eax, 0x00047744
.timing:
        call bank_write
        mov al, MC_CTRL
        call bank_select
        mov eax, 3                      ; REFRESH_EN | START_TRAINING
        call bank_write
        mov al, MC_STATUS
        call bank_select
        mov ecx, POLL_LIMIT
.mc_poll:
        call bank_read
        test al, 1
        jnz .mc_done
        call poll_wait
        dec ecx
        jnz .mc_poll
        jmp .fail
.mc_done:
        ; Drop START_TRAINING, keep refresh: read-modify-write through the pair.
        mov al, MC_CTRL
        call bank_select
        call bank_read
        and al, 0xFE
        call bank_write
        mov dword [fs:ebx + REG_SCRATCH0], 3

        ; Display pipe: read-modify-write of BPP and ENABLE.
        mov eax, [fs:ebx + REG_DISPLAY]
        and eax, 0xFFFFFFF0
        or eax, 0x00000011              ; VGA_MODE | ENABLE, 8 bpp
        mov [fs:ebx + REG_DISPLAY], eax
        mov dword [fs:ebx + REG_FB_BASE], 0
        mov eax, [fs:ebx + REG_INT_ENABLE]
        or al, 0x01                     ; VBLANK interrupt
        mov [fs:ebx + REG_INT_ENABLE], eax

        ; VGA: colour I/O addresses, then CRTC timings of 80x25 text.
        mov dx, 0x3C2
        mov al, 0x67
        out dx, al
        mov dx, 0x3D4
        mov al, 0x11                    ; unlock CR0-CR7: clear CR11 bit 7 (read-modify-write)
        out dx, al
        inc dx
        in al, dx
        and al, 0x7F
        out dx, al
        dec dx
        mov ax, cs
        mov ds, ax
        mov si, crtc_table
        mov cx, crtc_table_end - crtc_table
        xor bl, bl
.crtc:
        mov al, bl                      ; index in AL, value in AH: one word write
        mov ah, [si]
        out dx, ax
        inc si
        inc bl
        loop .crtc

        ; Palette: 256 entries from index 0, 768 bytes through the DAC data port.
        mov dx, 0x3C8
        xor al, al
        out dx, al
        inc dx
        mov si, palette
        mov cx, 768
        cld
        rep outsb

        ; Clear pending interrupts: write back the ones that are set.
        mov ebx, MMIO
        mov eax, [fs:ebx + REG_INT_STATUS]
        mov [fs:ebx + REG_INT_STATUS], eax
        mov dword [fs:ebx + REG_SCRATCH1], 0x600D600D
        jmp .out

.fail:
        mov ebx, MMIO
        test ebx, ebx
        jz .out
        mov dword [fs:ebx + REG_SCRATCH1], 0xBAD0BAD0
.out:
        mov sp, bp
        pop bp
        pop fs
        pop es
        pop ds
        popad
        popfd
        retf

; ---------------------------------------------------------------------------------------
; Bank access through BAR1: DX = I/O base on entry and exit.
bank_select:                            ; AL = bank register
        add dx, IO_BANK_INDEX
        out dx, al
        sub dx, IO_BANK_INDEX
        ret
bank_write:                             ; EAX = value
        add dx, IO_BANK_DATA
        out dx, eax
        sub dx, IO_BANK_DATA
        ret
bank_read:                              ; -> EAX
        add dx, IO_BANK_DATA
        in eax, dx
        sub dx, IO_BANK_DATA
        ret

; POLL_WAIT_US microseconds through the system BIOS (INT 15h AH=86h, CX:DX = microseconds),
; as BIOSes pace a status poll. Preserves every register.
poll_wait:
        pushad
        mov ah, 0x86
        xor cx, cx
        mov dx, POLL_WAIT_US
        int 0x15
        popad
        ret

; ~1 ms: count DELAY_TOGGLES changes of the refresh bit (port 0x61 bit 4, toggles every
; 15.085 us). Each wait for a change is bounded so a stuck bit cannot hang the machine; a
; short register-only spin between two reads keeps the port traffic to a few reads per toggle.
delay_1ms:
        push ax
        push bx
        push cx
        push dx
        mov cx, DELAY_TOGGLES
        in al, 0x61
        and al, 0x10
        mov ah, al
.next:
        mov dx, 0xFFFF
.wait:
        in al, 0x61
        and al, 0x10
        cmp al, ah
        jne .changed
        mov bx, DELAY_PACE
.pace:
        dec bx
        jnz .pace
        dec dx
        jnz .wait
.changed:
        mov ah, al
        loop .next
        pop dx
        pop cx
        pop bx
        pop ax
        ret

; CRTC registers 0x00-0x18 for 80x25 text at 720x400 (the standard VGA values).
crtc_table:
        db 0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F
        db 0x00, 0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00
        db 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3
        db 0xFF
crtc_table_end:

; 256 entries of 6-bit R, G, B: a grey ramp tinted per quarter.
palette:
%assign i 0
%rep 256
        db (i >> 2), ((i * 3) >> 2) & 0x3F, (255 - i) >> 2
%assign i i + 1
%endrep

        times ROM_BLOCKS * 512 - 1 - ($ - rom_start) db 0
checksum:
        db 0                            ; set by the build
