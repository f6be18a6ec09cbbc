"""The managed-login sign-in in a real browser (headless Chromium driven by selenium), against
the local stack: cookie rules (SameSite=Lax on the cross-site redirect back from the login
page, host-only with `Path=/` as `__Host-` demands, HttpOnly) are a browser's business, so they are proven in
one.

Run by `make e2e-browser`, which builds `local-gateway` and installs Chromium and selenium.
Exits non-zero on the first failed check.
"""

import json
import os
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from local_stack import LocalStack, request_json  # noqa: E402

DEMO_USER = "demo-admin"
DEMO_PASSWORD = "Demo-Passw0rd!"


def check(condition, what):
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


def page_json(driver):
    # Chromium shows a JSON answer as text in a <pre>.
    return json.loads(driver.find_element(By.TAG_NAME, "body").text)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tempfile.mkdtemp(prefix='oauth-browser-')}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main():
    with LocalStack("debug") as stack:
        base, login_site = stack.base, stack.login_site
        driver = browser()
        try:
            journey(driver, base, login_site)
        finally:
            driver.quit()


def journey(driver, base, login_site):
    driver.get(f"{base}/auth/oauth/authorize?redirectTo=/account")
    check(driver.current_url.startswith(f"{login_site}/oauth2/authorize?"), "the API sends the browser to the login page")
    stored = [c for c in driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"] if c["name"] == "oauth_flow"]
    check(len(stored) == 1 and stored[0]["domain"] == "127.0.0.1", "the browser keeps one flow cookie, for the API's host")
    flow = stored[0]
    check(flow["httpOnly"] and flow["sameSite"] == "Lax" and flow["path"] == "/" and flow.get("hostOnly", True),
          "the flow cookie is HttpOnly, SameSite=Lax, host-only and Path=/ (the shape `__Host-` demands)")

    driver.find_element(By.ID, "username").send_keys(DEMO_USER)
    driver.find_element(By.ID, "password").send_keys(DEMO_PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    check(driver.current_url.startswith(f"{base}/auth/oauth/callback?"), "the login page sends the browser back to the callback")
    callback_url = driver.current_url
    body = page_json(driver)
    check("accessToken" in body and body.get("redirectTo") == "/account",
          "the callback got the flow cookie back across sites (SameSite=Lax) and answered tokens")
    left = [c for c in driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"] if c["name"] == "oauth_flow"]
    check(not left, "the callback cleared the flow cookie")

    # Sent to the callback again (a replay in the same browser): no flow, no tokens.
    driver.get(callback_url)
    replay = page_json(driver)
    check(replay.get("code") == "InvalidOAuthState", "a replayed callback finds no flow")
    token = body["accessToken"]

    status, info = request_json(base, "/auth/userinfo", token=token)
    check(status == 200 and info.get("username") == DEMO_USER, "userinfo answers for the code flow's token")
    status, me = request_json(base, "/auth/me", token=token)
    check(status == 200 and me.get("sub") == info.get("sub"), "/auth/me answers for the same user")

    driver.get(f"{base}/auth/oauth/logout?redirectTo=/bye")
    check(driver.current_url == f"{base}/bye", "logout goes through the login page's /logout and back to redirectTo")
    print("browser journey passed")


if __name__ == "__main__":
    sys.exit(main())
