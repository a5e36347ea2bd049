@echo off
rem Open Ruang's kiosk page in Edge or Chrome kiosk mode: ruang-kiosk.cmd [-Url URL] [-Watch] [-DryRun] [-InstallCa FILE]
rem The options are those of ruang-kiosk.ps1, next to this file.
powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0ruang-kiosk.ps1" %*
exit /b %ERRORLEVEL%
