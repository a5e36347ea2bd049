"""What the kiosk says: error messages of the protocol and the exam page's words.

Messages are English msgids marked with ``N_`` (``scripts/i18n-update cbt`` extracts them
into the CBT catalogue) and translated with :func:`t`. Indonesian is the language lab PCs
speak, so until the catalogue carries a translation, the Indonesian text here is used;
a translation in the catalogue always wins.
"""

from __future__ import annotations

import contextlib
from typing import Any

from core.web.i18n import N_

__all__ = ["DONE", "ERRORS", "PROCTOR_ERRORS", "ROOM", "UI", "action_done", "error",
           "proctor_error", "room_labels", "room_texts", "t", "ui"]

ERRORS: dict[str, str] = {
    "not_enrolled": N_("This computer is not enrolled as an exam kiosk. Ask the staff to "
                       "enrol it."),
    "throttled": N_("Too many wrong tries on this computer. Try again in %(x)s seconds."),
    "seb_required": N_("This lab requires Safe Exam Browser. Open the exam in Safe Exam "
                       "Browser."),
    "wrong": N_("The participant number or the password is wrong."),
    "no_session": N_("You are not scheduled in an exam session now. Ask the proctor."),
    "wrong_lab": N_("Your exam takes place in another lab: %(x)s."),
    "too_early": N_("Your session is not open for sign-in yet. Please wait."),
    "session_over": N_("Your exam session is over."),
    "exam_unavailable": N_("The exam is not available. Ask the proctor."),
    "submitted": N_("You have already submitted this exam."),
    "wrong_seat": N_("Your seat is %(x)s. Please sit there, or ask the proctor."),
    "elsewhere": N_("You are signed in at seat %(x)s. Ask the proctor to reset your login."),
    "kiosk_busy": N_("This computer is in use by candidate %(x)s."),
    "logged_out": N_("You were signed out of this computer. Sign in again, or ask the "
                     "proctor."),
    "not_signed_in": N_("Sign in first."),
    "invalid": N_("The server did not understand the message."),
    "wrong_attempt": N_("The message belongs to another attempt."),
    "version": N_("This exam page is out of date. Reload the page."),
    "rate_limited": N_("Too many messages at once; waiting a moment."),
    "bad_token": N_("That token is not right. Check the token the proctor shows."),
    "not_running": N_("The exam has not started yet."),
    "late": N_("Time is up: this answer reached the server after the deadline and was not "
               "saved."),
    "closed": N_("The exam has closed."),
    "cancelled": N_("The session is cancelled."),
    "unavailable": N_("The server could not save just now; the answer is sent again."),
    "paused": N_("The proctor has paused the exam. Your time is stopped."),
    "locked": N_("The proctor has locked this computer. Wait for the proctor."),
    "needs_admission": N_("You are late. Wait until the proctor admits you."),
    "refused": N_("The proctor did not admit you to this session."),
}

UI: dict[str, str] = {
    "page_title": N_("Exam"),
    "seat": N_("Seat"),
    "signin_title": N_("Sign in to your exam"),
    "number": N_("Participant number"),
    "password": N_("Password"),
    "signin": N_("Sign in"),
    "signing_in": N_("Signing in..."),
    "network": N_("The server cannot be reached. Check the network and try again."),
    "waiting_title": N_("Waiting for the start"),
    "waiting_hint": N_("The exam starts when the proctor starts it, or when you type the "
                       "session token the proctor shows."),
    "token": N_("Session token"),
    "start": N_("Start"),
    "starting": N_("Starting..."),
    "paper_loading": N_("Downloading your paper..."),
    "paper_ready": N_("Your paper is on this computer, locked until the start."),
    "instructions": N_("Instructions"),
    "duration": N_("Duration: %(n)s minutes, %(items)s questions"),
    "question": N_("Question %(n)s of %(total)s"),
    "points": N_("%(n)s point(s)"),
    "prev": N_("Previous"),
    "next": N_("Next"),
    "flag": N_("Mark for review"),
    "unflag": N_("Unmark"),
    "answered": N_("Answered"),
    "flagged_count": N_("Marked"),
    "remaining": N_("Time left"),
    "saved": N_("Saved"),
    "saving": N_("Saving..."),
    "offline": N_("Offline: answers are kept on this computer"),
    "unsaved": N_("%(n)s answer(s) waiting to be sent"),
    "submit": N_("Submit"),
    "submit_confirm": N_("Submit your answers? You cannot change them afterwards."),
    "submit_unanswered": N_("%(n)s question(s) are not answered."),
    "submit_wait": N_("Wait until every answer is saved (the indicator shows Saved)."),
    "yes_submit": N_("Yes, submit"),
    "cancel": N_("Cancel"),
    "submitted_title": N_("Your answers have been submitted"),
    "submitted_deadline": N_("Time is up. The server submitted your answers."),
    "submitted_proctor": N_("The proctor ended your exam."),
    "answered_count": N_("%(n)s of %(total)s questions answered."),
    "finish": N_("Done"),
    "time_up": N_("Time is up."),
    "logged_out_title": N_("You were signed out"),
    "logged_out_text": N_("The proctor reset your login. Sign in again on the computer the "
                          "proctor shows you; your answers and your time are kept."),
    "insecure_title": N_("This connection is not secure"),
    "insecure": N_("This exam page was opened over plain HTTP at %(origin)s. Browsers "
                   "open encrypted exam papers only over secure connections (HTTPS)."),
    "insecure_operator": N_("For the operator: run \"ruang tls init --name %(name)s\", "
                            "start the server with \"ruang serve --tls\", install the lab CA "
                            "certificate on the lab PCs (ruang tls init prints how), then "
                            "open https://%(host)s/kiosk on them."),
    "decrypt_failed": N_("Your paper could not be opened on this computer. Ask the proctor."),
    "true": N_("True"),
    "false": N_("False"),
    "your_answer": N_("Your answer"),
    "number_answer": N_("Your answer (a number)"),
    "essay": N_("Write your answer here"),
    "words": N_("%(n)s word(s)"),
    "max_words": N_("at most %(n)s words"),
    "choose": N_("Choose..."),
    "nav": N_("Questions"),
    "reconnecting": N_("Reconnecting..."),
    "paused_title": N_("The exam is paused"),
    "paused_text": N_("The proctor has paused the exam. Your time is stopped and every answer "
                      "is kept."),
    "locked_title": N_("This computer is locked"),
    "locked_text": N_("The proctor has locked this computer. Please wait for the proctor."),
    "message_title": N_("Message from the proctor"),
    "close": N_("Close"),
    "time_changed": N_("The proctor changed your time."),
    "reopened": N_("The proctor reopened your exam. Sign in again to continue."),
    "refused_text": N_("The proctor did not admit you to this session."),
}

# The proctor's pages and messages, by English msgid. Templates and views call ``_`` on
# them (so the catalogue tools find them); those pages bind ``_`` to :func:`t`.
PAGES: dict[str, str] = {
    "Exam rooms": "Ruang ujian",
    "Exam room": "Ruang ujian",
    "Sessions you proctor, from today on.": "Sesi yang Anda awasi, mulai hari ini.",
    "Session": "Sesi",
    "Lab": "Lab",
    "Starts": "Mulai",
    "Ends": "Selesai",
    "No exam sessions to proctor.": "Tidak ada sesi ujian untuk diawasi.",
    "Show the token to the room; candidates type it to start, or start everyone who is "
    "signed in.": "Tampilkan token ke seluruh ruangan; peserta mengetiknya untuk mulai, atau "
                  "mulai untuk semua peserta yang sudah masuk.",
    "Session token": "Token sesi",
    "Changes every 15 minutes.": "Berganti setiap 15 menit.",
    "Open the exam on the lab's kiosks": "Buka ujian di kiosk lab",
    "Start for everyone signed in": "Mulai untuk semua yang sudah masuk",
    "Seat": "Kursi",
    "Participant number": "Nomor peserta",
    "Name": "Nama",
    "State": "Status",
    "Answered": "Terjawab",
    "Time left": "Sisa waktu",
    "Not signed in": "Belum masuk",
    "Signed out": "Login direset",
    "Waiting": "Menunggu",
    "Working": "Mengerjakan",
    "Submitted": "Sudah mengumpulkan",
    "Reset login": "Reset login",
    "Started: %(n)s candidate(s) received their key.":
        "Dimulai: %(n)s peserta menerima kunci naskahnya.",
    "The lab's kiosks were sent to the exam page.": "Kiosk lab diarahkan ke halaman ujian.",
    "Login reset: the candidate can sign in on another computer of the lab.":
        "Login direset: peserta dapat masuk di komputer lain di lab ini.",
    "That attempt is already submitted.": "Ujian peserta itu sudah dikumpulkan.",
    "Saved.": "Tersimpan.",
    "Exam kiosks of %(lab)s": "Kiosk ujian %(lab)s",
    "Whether this lab's kiosks must run exams in Safe Exam Browser.":
        "Apakah kiosk lab ini wajib menjalankan ujian di Safe Exam Browser.",
    "Require Safe Exam Browser": "Wajibkan Safe Exam Browser",
    "Allowed Config Keys (one per line, as Safe Exam Browser shows them)":
        "Config Key yang diizinkan (satu per baris, seperti ditampilkan Safe Exam Browser)",
    "Save": "Simpan",
    "Project the token": "Tampilkan token di proyektor",
    "For everyone in the session:": "Untuk semua peserta sesi:",
    "Change time": "Ubah waktu",
    "Pause": "Jeda",
    "Resume": "Lanjutkan",
    "Send a message": "Kirim pesan",
    "Record an incident": "Catat kejadian",
    "Connecting...": "Menghubungkan...",
    "All": "Semua",
    "With warnings only": "Hanya yang berperingatan",
    "Search": "Cari",
    "Number, name or seat": "Nomor, nama, atau kursi",
    "View": "Tampilan",
    "Seat map": "Denah kursi",
    "List": "Daftar",
    "Marked": "Ragu-ragu",
    "Warnings": "Peringatan",
    "Incidents": "Kejadian",
    "None recorded.": "Belum ada yang dicatat.",
    "Close": "Tutup",
    "Type this token on your computer to start the exam.":
        "Ketik token ini di komputer Anda untuk memulai ujian.",
    "%(key)s is not a Config Key (64 hexadecimal characters).":
        "%(key)s bukan Config Key (64 karakter heksadesimal).",
    "Give at least one Config Key when Safe Exam Browser is required.":
        "Isi paling sedikit satu Config Key bila Safe Exam Browser diwajibkan.",
}
# The proctor's live room page (room.js gets these by key).
ROOM: dict[str, str] = {
    "absent": N_("Not signed in"),
    "signed_out": N_("Signed out"),
    "ready": N_("Waiting"),
    "running": N_("Working"),
    "paused": N_("Paused"),
    "locked": N_("Locked"),
    "submitted": N_("Submitted"),
    "late": N_("Late: admit?"),
    "refused": N_("Refused"),
    "online": N_("Online"),
    "offline": N_("Offline"),
    "focus_lost": N_("Left the exam window"),
    "fullscreen_exit": N_("Left full screen"),
    "reload": N_("Reloaded the page"),
    "seb_failed": N_("Safe Exam Browser check failed"),
    "other": N_("Other signals"),
    "answered": N_("answered"),
    "flagged": N_("marked"),
    "left": N_("left"),
    "live": N_("Live"),
    "disconnected": N_("Reconnecting to the server..."),
    "no_match": N_("No candidate matches the filter."),
    "reason": N_("Reason (required)"),
    "minutes": N_("Minutes (negative to shorten)"),
    "reopen_minutes": N_("Minutes from now"),
    "text": N_("Message"),
    "category": N_("Category"),
    "send": N_("Confirm"),
    "cancel": N_("Cancel"),
    "everyone": N_("Everyone in the session"),
    "reason_required": N_("Give a reason."),
    "failed": N_("The action failed."),
    "act_admit": N_("Admit"),
    "act_refuse": N_("Refuse"),
    "act_extend": N_("Change time"),
    "act_pause": N_("Pause"),
    "act_resume": N_("Resume"),
    "act_lock": N_("Lock"),
    "act_unlock": N_("Unlock"),
    "act_reset": N_("Reset login"),
    "act_force_submit": N_("Force submit"),
    "act_reopen": N_("Reopen"),
    "act_message": N_("Send a message"),
    "act_incident": N_("Record an incident"),
    "cat_technical": N_("Technical problem"),
    "cat_conduct": N_("Conduct"),
    "cat_health": N_("Health"),
    "cat_late": N_("Late arrival"),
    "cat_other": N_("Other"),
}

PROCTOR_ERRORS: dict[str, str] = {
    "reason_required": N_("Give a reason (for a message or an incident: its text)."),
    "not_found": N_("That candidate is not in this session."),
    "invalid": N_("The action is incomplete or not valid here."),
}

DONE: dict[str, str] = {
    "admit": N_("Admitted: %(n)s."), "refuse": N_("Refused: %(n)s."),
    "extend": N_("Time changed for %(n)s candidate(s)."),
    "pause": N_("Paused: %(n)s."), "resume": N_("Resumed: %(n)s."),
    "lock": N_("Locked: %(n)s."), "unlock": N_("Unlocked: %(n)s."),
    "reset": N_("Login reset: %(n)s."), "force_submit": N_("Submitted by the proctor: %(n)s."),
    "reopen": N_("Reopened: %(n)s."), "message": N_("Message sent."),
    "incident": N_("Incident recorded."),
}

# Indonesian, used while the catalogue has no translation for a msgid.
_ID: dict[str, str] = {
    **PAGES,
    ERRORS["paused"]: "Pengawas menjeda ujian. Waktu Anda berhenti.",
    ERRORS["locked"]: "Pengawas mengunci komputer ini. Tunggu pengawas.",
    ERRORS["needs_admission"]: "Anda terlambat. Tunggu sampai pengawas mengizinkan Anda masuk.",
    ERRORS["refused"]: "Pengawas tidak mengizinkan Anda mengikuti sesi ini.",
    UI["paused_title"]: "Ujian dijeda",
    UI["paused_text"]: "Pengawas menjeda ujian. Waktu Anda berhenti dan semua jawaban tetap "
                       "tersimpan.",
    UI["locked_title"]: "Komputer ini dikunci",
    UI["locked_text"]: "Pengawas mengunci komputer ini. Mohon tunggu pengawas.",
    UI["message_title"]: "Pesan dari pengawas",
    UI["close"]: "Tutup",
    UI["time_changed"]: "Pengawas mengubah waktu Anda.",
    UI["reopened"]: "Pengawas membuka kembali ujian Anda. Masuk lagi untuk melanjutkan.",
    ROOM["signed_out"]: "Login direset",
    ROOM["paused"]: "Dijeda",
    ROOM["locked"]: "Dikunci",
    ROOM["late"]: "Terlambat: izinkan?",
    ROOM["refused"]: "Ditolak",
    ROOM["online"]: "Daring",
    ROOM["offline"]: "Luring",
    ROOM["focus_lost"]: "Keluar dari jendela ujian",
    ROOM["fullscreen_exit"]: "Keluar dari layar penuh",
    ROOM["reload"]: "Memuat ulang halaman",
    ROOM["seb_failed"]: "Pemeriksaan Safe Exam Browser gagal",
    ROOM["other"]: "Sinyal lain",
    ROOM["answered"]: "terjawab",
    ROOM["flagged"]: "ragu-ragu",
    ROOM["left"]: "tersisa",
    ROOM["live"]: "Langsung",
    ROOM["disconnected"]: "Menghubungkan kembali ke server...",
    ROOM["no_match"]: "Tidak ada peserta yang cocok dengan filter.",
    ROOM["reason"]: "Alasan (wajib)",
    ROOM["minutes"]: "Menit (negatif untuk mengurangi)",
    ROOM["reopen_minutes"]: "Menit dari sekarang",
    ROOM["text"]: "Pesan",
    ROOM["category"]: "Kategori",
    ROOM["send"]: "Konfirmasi",
    ROOM["everyone"]: "Semua peserta sesi",
    ROOM["reason_required"]: "Isi alasannya.",
    ROOM["failed"]: "Tindakan gagal.",
    ROOM["act_admit"]: "Izinkan",
    ROOM["act_refuse"]: "Tolak",
    ROOM["act_extend"]: "Ubah waktu",
    ROOM["act_pause"]: "Jeda",
    ROOM["act_resume"]: "Lanjutkan",
    ROOM["act_lock"]: "Kunci",
    ROOM["act_unlock"]: "Buka kunci",
    ROOM["act_force_submit"]: "Kumpulkan paksa",
    ROOM["act_reopen"]: "Buka kembali",
    ROOM["act_message"]: "Kirim pesan",
    ROOM["act_incident"]: "Catat kejadian",
    ROOM["cat_technical"]: "Masalah teknis",
    ROOM["cat_conduct"]: "Perilaku",
    ROOM["cat_health"]: "Kesehatan",
    ROOM["cat_late"]: "Keterlambatan",
    ROOM["cat_other"]: "Lainnya",
    PROCTOR_ERRORS["reason_required"]: "Isi alasannya (untuk pesan atau kejadian: isinya).",
    PROCTOR_ERRORS["not_found"]: "Peserta itu tidak ada di sesi ini.",
    PROCTOR_ERRORS["invalid"]: "Tindakan belum lengkap atau tidak berlaku di sini.",
    DONE["admit"]: "Diizinkan: %(n)s.", DONE["refuse"]: "Ditolak: %(n)s.",
    DONE["extend"]: "Waktu diubah untuk %(n)s peserta.",
    DONE["pause"]: "Dijeda: %(n)s.", DONE["resume"]: "Dilanjutkan: %(n)s.",
    DONE["lock"]: "Dikunci: %(n)s.", DONE["unlock"]: "Dibuka: %(n)s.",
    DONE["reset"]: "Login direset: %(n)s.", DONE["force_submit"]: "Dikumpulkan pengawas: %(n)s.",
    DONE["reopen"]: "Dibuka kembali: %(n)s.", DONE["message"]: "Pesan terkirim.",
    DONE["incident"]: "Kejadian dicatat.",
    ERRORS["not_enrolled"]: "Komputer ini belum terdaftar sebagai kiosk ujian. Minta staf "
                            "mendaftarkannya.",
    ERRORS["throttled"]: "Terlalu banyak percobaan salah di komputer ini. Coba lagi dalam "
                         "%(x)s detik.",
    ERRORS["seb_required"]: "Lab ini mewajibkan Safe Exam Browser. Buka ujian melalui Safe "
                            "Exam Browser.",
    ERRORS["wrong"]: "Nomor peserta atau kata sandi salah.",
    ERRORS["no_session"]: "Anda tidak terjadwal di sesi ujian saat ini. Hubungi pengawas.",
    ERRORS["wrong_lab"]: "Ujian Anda berlangsung di lab lain: %(x)s.",
    ERRORS["too_early"]: "Sesi Anda belum dibuka untuk masuk. Silakan tunggu.",
    ERRORS["session_over"]: "Sesi ujian Anda sudah berakhir.",
    ERRORS["exam_unavailable"]: "Ujian belum tersedia. Hubungi pengawas.",
    ERRORS["submitted"]: "Anda sudah mengumpulkan ujian ini.",
    ERRORS["wrong_seat"]: "Kursi Anda %(x)s. Silakan duduk di sana, atau hubungi pengawas.",
    ERRORS["elsewhere"]: "Anda sedang masuk di kursi %(x)s. Minta pengawas mereset login "
                         "Anda.",
    ERRORS["kiosk_busy"]: "Komputer ini sedang dipakai peserta %(x)s.",
    ERRORS["logged_out"]: "Anda telah dikeluarkan dari komputer ini. Masuk lagi, atau "
                          "hubungi pengawas.",
    ERRORS["not_signed_in"]: "Masuk terlebih dahulu.",
    ERRORS["invalid"]: "Server tidak memahami pesan ini.",
    ERRORS["wrong_attempt"]: "Pesan ini milik percobaan ujian lain.",
    ERRORS["version"]: "Halaman ujian ini sudah usang. Muat ulang halaman.",
    ERRORS["rate_limited"]: "Terlalu banyak pesan sekaligus; menunggu sebentar.",
    ERRORS["bad_token"]: "Token tidak tepat. Periksa token yang ditampilkan pengawas.",
    ERRORS["not_running"]: "Ujian belum dimulai.",
    ERRORS["late"]: "Waktu habis: jawaban ini sampai di server setelah batas waktu dan tidak "
                    "disimpan.",
    ERRORS["closed"]: "Ujian sudah ditutup.",
    ERRORS["cancelled"]: "Sesi ini dibatalkan.",
    ERRORS["unavailable"]: "Server belum dapat menyimpan; jawaban dikirim ulang.",
    UI["page_title"]: "Ujian",
    UI["seat"]: "Kursi",
    UI["signin_title"]: "Masuk ke ujian Anda",
    UI["number"]: "Nomor peserta",
    UI["password"]: "Kata sandi",
    UI["signin"]: "Masuk",
    UI["signing_in"]: "Sedang masuk...",
    UI["network"]: "Server tidak dapat dihubungi. Periksa jaringan lalu coba lagi.",
    UI["waiting_title"]: "Menunggu ujian dimulai",
    UI["waiting_hint"]: "Ujian dimulai saat pengawas memulainya, atau saat Anda mengetik token "
                        "sesi yang ditampilkan pengawas.",
    UI["token"]: "Token sesi",
    UI["start"]: "Mulai",
    UI["starting"]: "Memulai...",
    UI["paper_loading"]: "Mengunduh naskah soal Anda...",
    UI["paper_ready"]: "Naskah soal Anda sudah ada di komputer ini, terkunci sampai ujian "
                       "dimulai.",
    UI["instructions"]: "Petunjuk",
    UI["duration"]: "Durasi: %(n)s menit, %(items)s soal",
    UI["question"]: "Soal %(n)s dari %(total)s",
    UI["points"]: "%(n)s poin",
    UI["prev"]: "Sebelumnya",
    UI["next"]: "Berikutnya",
    UI["flag"]: "Tandai ragu-ragu",
    UI["unflag"]: "Hapus tanda",
    UI["answered"]: "Terjawab",
    UI["flagged_count"]: "Ragu-ragu",
    UI["remaining"]: "Sisa waktu",
    UI["saved"]: "Tersimpan",
    UI["saving"]: "Menyimpan...",
    UI["offline"]: "Offline: jawaban disimpan di komputer ini",
    UI["unsaved"]: "%(n)s jawaban menunggu dikirim",
    UI["submit"]: "Kumpulkan",
    UI["submit_confirm"]: "Kumpulkan jawaban Anda? Setelah dikumpulkan, jawaban tidak dapat "
                          "diubah.",
    UI["submit_unanswered"]: "%(n)s soal belum dijawab.",
    UI["submit_wait"]: "Tunggu sampai semua jawaban tersimpan (penanda menunjukkan "
                       "Tersimpan).",
    UI["yes_submit"]: "Ya, kumpulkan",
    UI["cancel"]: "Batal",
    UI["submitted_title"]: "Jawaban Anda sudah dikumpulkan",
    UI["submitted_deadline"]: "Waktu habis. Server mengumpulkan jawaban Anda.",
    UI["submitted_proctor"]: "Pengawas mengakhiri ujian Anda.",
    UI["answered_count"]: "%(n)s dari %(total)s soal terjawab.",
    UI["finish"]: "Selesai",
    UI["time_up"]: "Waktu habis.",
    UI["logged_out_title"]: "Anda telah dikeluarkan",
    UI["logged_out_text"]: "Pengawas mereset login Anda. Masuk lagi di komputer yang ditunjukkan "
                           "pengawas; jawaban dan sisa waktu Anda tetap tersimpan.",
    UI["insecure_title"]: "Koneksi ini tidak aman",
    UI["insecure"]: "Halaman ujian ini dibuka lewat HTTP biasa di %(origin)s. Browser hanya "
                    "mau membuka naskah soal terenkripsi lewat koneksi aman (HTTPS).",
    UI["insecure_operator"]: "Untuk operator: jalankan \"ruang tls init --name %(name)s\", "
                             "jalankan server dengan \"ruang serve --tls\", pasang sertifikat "
                             "CA lab di PC lab (petunjuknya dicetak oleh ruang tls init), lalu "
                             "buka https://%(host)s/kiosk di PC tersebut.",
    UI["decrypt_failed"]: "Naskah soal Anda tidak dapat dibuka di komputer ini. Hubungi "
                          "pengawas.",
    UI["true"]: "Benar",
    UI["false"]: "Salah",
    UI["your_answer"]: "Jawaban Anda",
    UI["number_answer"]: "Jawaban Anda (angka)",
    UI["essay"]: "Tulis jawaban Anda di sini",
    UI["words"]: "%(n)s kata",
    UI["max_words"]: "paling banyak %(n)s kata",
    UI["choose"]: "Pilih...",
    UI["nav"]: "Daftar soal",
    UI["reconnecting"]: "Menghubungkan kembali...",
}


def _locale() -> str:
    try:
        from flask_babel import get_locale

        loc = get_locale()
    except Exception:  # outside a request: the default language of the instance
        loc = None
    return str(loc) if loc is not None else "id"


def t(msgid: str, **values: Any) -> str:
    """``msgid`` in the reader's language, with ``%(name)s`` placeholders filled."""
    try:
        from flask_babel import gettext

        text = gettext(msgid)
    except Exception:
        text = msgid
    if text == msgid and _locale().startswith("id"):
        text = _ID.get(msgid, msgid)
    if values:
        with contextlib.suppress(KeyError, ValueError, TypeError):
            text = text % values
    return text


def error(code: str, detail: str = "") -> str:
    msgid = ERRORS.get(code)
    if msgid is None:
        return code
    return t(msgid, x=detail) if "%(x)s" in msgid else t(msgid)


def room_labels() -> dict[str, str]:
    return {key: t(ROOM[key]) for key in ("absent", "signed_out", "ready", "running", "paused",
                                          "locked", "submitted")}


def room_texts() -> dict[str, str]:
    return {key: t(msgid) for key, msgid in ROOM.items()}


def proctor_error(code: str, detail: str = "") -> str:
    msgid = PROCTOR_ERRORS.get(code)
    return t(msgid) if msgid else code


def action_done(action: str, done: int, skipped: int) -> str:
    msgid = DONE.get(action)
    return t(msgid, n=done) if msgid else action


def ui() -> dict[str, str]:
    """Every word of the exam page, for the script (placeholders left for it to fill)."""
    return {key: t(msgid) for key, msgid in UI.items()}
