"""The roles and divisions the SOP names. Their words stay Indonesian in the UI."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    HEAD = "head"  # Ka. BPTI
    APPROVER = "approver"  # WR II
    PROCTOR = "proctor"
    CANDIDATE = "candidate"
    REQUESTER = "requester"


class Division(StrEnum):
    YANSI = "YANSI"  # Pelayanan dan Informasi: helpdesk, front office
    WDM = "WDM"  # Website dan Multimedia: CBT events
    JDS = "JDS"  # Jaringan dan Server
    ADD = "ADD"  # Aplikasi dan Database


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "Admin",
    Role.STAFF: "Staf BPTI",
    Role.HEAD: "Ka. BPTI",
    Role.APPROVER: "WR II",
    Role.PROCTOR: "Pengawas",
    Role.CANDIDATE: "Peserta",
    Role.REQUESTER: "Pemohon",
}

DIVISION_LABELS: dict[Division, str] = {
    Division.YANSI: "Pelayanan dan Informasi (YANSI)",
    Division.WDM: "Website dan Multimedia (WDM)",
    Division.JDS: "Jaringan dan Server (JDS)",
    Division.ADD: "Aplikasi dan Database (ADD)",
}
