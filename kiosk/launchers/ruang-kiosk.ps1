<#
.SYNOPSIS
  Open Ruang's kiosk page in Microsoft Edge or Google Chrome kiosk mode on a Windows lab PC.

.DESCRIPTION
  ruang-kiosk.ps1 [-Url https://exam.lab:5000/kiosk] [-Watch] [-DryRun] [-InstallCa ruang-ca.crt]

  The URL defaults to the RUANG_KIOSK_URL environment variable. The browser keeps its own
  profile (RUANG_KIOSK_PROFILE, default %LOCALAPPDATA%\RuangKiosk): the kiosk's enrolment
  and the answers waiting to be sent live there, so it must persist (no InPrivate/incognito).
  -Watch starts the browser again whenever it exits. -InstallCa adds the lab CA made by
  `ruang tls init` to the machine's trusted roots (run as administrator once per PC).
  RUANG_KIOSK_BROWSER picks the browser's path; otherwise Edge, then Chrome, is used.
#>
param(
    [string]$Url = $env:RUANG_KIOSK_URL,
    [switch]$Watch,
    [switch]$DryRun,
    [string]$InstallCa = "",
    [string]$Browser = $env:RUANG_KIOSK_BROWSER
)
$ErrorActionPreference = "Stop"

if (-not $Url) {
    Write-Error "Give the kiosk URL (-Url, or set RUANG_KIOSK_URL), e.g. https://exam.lab:5000/kiosk"
    exit 2
}

if ($InstallCa) {
    Import-Certificate -FilePath $InstallCa -CertStoreLocation Cert:\LocalMachine\Root | Out-Null
    Write-Host "ruang-kiosk: lab CA installed in the machine's trusted roots"
}

if (-not $Browser) {
    $candidates = @(
        "${env:ProgramFiles(x86)}\Microsoft\Edge\Application\msedge.exe",
        "$env:ProgramFiles\Microsoft\Edge\Application\msedge.exe",
        "$env:ProgramFiles\Google\Chrome\Application\chrome.exe",
        "${env:ProgramFiles(x86)}\Google\Chrome\Application\chrome.exe",
        "$env:LOCALAPPDATA\Google\Chrome\Application\chrome.exe"
    )
    $Browser = $candidates | Where-Object { $_ -and (Test-Path $_) } | Select-Object -First 1
}
if (-not $Browser) {
    Write-Error "Neither Microsoft Edge nor Google Chrome was found; set RUANG_KIOSK_BROWSER"
    exit 1
}

if ($Url -match '^http://' -and $Url -notmatch '^http://(localhost|127\.|\[::1\])') {
    Write-Warning ("$Url is plain HTTP on a network address. Browsers open encrypted exam " +
        "papers only over HTTPS: run 'ruang tls init --name <server>' and 'ruang serve --tls' " +
        "on the server, install the lab CA here (-InstallCa ruang-ca.crt), and use https://.")
}

$profileDir = if ($env:RUANG_KIOSK_PROFILE) { $env:RUANG_KIOSK_PROFILE } else { Join-Path $env:LOCALAPPDATA "RuangKiosk" }
New-Item -ItemType Directory -Force -Path $profileDir | Out-Null

$arguments = @(
    "--kiosk", $Url, "--user-data-dir=$profileDir", "--no-first-run",
    "--no-default-browser-check", "--noerrdialogs", "--disable-infobars",
    "--disable-session-crashed-bubble", "--disable-features=Translate,TranslateUI",
    "--disable-pinch", "--overscroll-history-navigation=0", "--disable-sync"
)
if ($Browser -match 'msedge\.exe$') {
    # Edge's own kiosk mode: full screen, no address bar, and no way out but Ctrl+Alt+Del.
    $arguments += @("--edge-kiosk-type=fullscreen")
}

if ($DryRun) {
    Write-Output ("`"$Browser`" " + ($arguments -join " "))
    exit 0
}
do {
    $process = Start-Process -FilePath $Browser -ArgumentList $arguments -PassThru
    $process.WaitForExit()
    if ($Watch) {
        Write-Host "ruang-kiosk: the browser closed; starting it again in 2 s"
        Start-Sleep -Seconds 2
    }
} while ($Watch)
