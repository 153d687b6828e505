// Interface text for every page, in English and Simplified Chinese.
//
// HTML carries no visible text of its own: elements name a key with
// data-i18n (text), data-i18n-placeholder, data-i18n-title or
// data-i18n-aria-label, and applyI18n() fills them in. Scripts use t().
// The language is the one chosen on this device (localStorage), else the
// signed-in user's account language, else the browser's.

export const LANGUAGES = [
  { code: "zh-CN", label: "简体中文" },
  { code: "en", label: "English" },
];

const STORAGE_KEY = "ccbox.lang";
const CHANGE_EVENT = "ccbox:languagechange";

const en = {
  "app.fallbackTitle": "CCBox",
  "lang.label": "Language",
  "lang.zh-CN": "简体中文",
  "lang.en": "English",
  "theme.toDark": "Switch to dark theme",
  "theme.toLight": "Switch to light theme",

  "common.cancel": "Cancel",
  "common.save": "Save",
  "common.saving": "Saving…",
  "common.refresh": "Refresh",
  "common.loading": "Loading…",

  "role.admin": "Administrator",
  "role.supervisor": "Supervisor",
  "role.agent": "Agent",

  "error.network": "Cannot reach the server. Check the network connection and try again.",
  "error.server": "The server could not complete the request (HTTP {status}).",
  "error.unknown": "Something went wrong. Please try again.",
  "error.required": "This field is required.",
  "error.forbidden": "You do not have permission to do this.",
  "error.notFound": "It no longer exists; the list has been refreshed.",
  "error.exists": "A user with this name already exists.",
  "error.mismatch": "The two passwords do not match.",
  "error.csrf": "This page is out of date. Reload it and try again.",
  "error.conflict": "Someone else changed this at the same time. Please try again.",
  "error.lastAdmin": "At least one enabled administrator must remain.",
  "error.disabled": "This account is disabled. Contact your administrator.",
  "error.userName": "Use 1–32 characters: a–z, 0–9, dot, dash or underscore, starting with a letter or digit.",
  "error.passwordShort": "Use at least 8 characters.",
  "error.passwordLong": "The password is too long (at most 72 bytes).",
  "error.passwordBlank": "A password cannot be only spaces.",
  "error.textTooLong": "Use at most 64 characters.",
  "error.numberTaken": "This number is already in use ({detail}).",
  "error.extNumber": "Use 2–8 digits, not starting with 0.",
  "error.agentNumber": "Use 2–12 digits, or leave it empty.",
  "error.secretShort": "Use at least 8 characters.",
  "error.secretLong": "The secret is too long (at most 128 bytes).",
  "error.secretIsNumber": "The secret must not be the extension number.",
  "error.maxCalls": "Enter a whole number from 0 to 100.",
  "error.forward": "Use 2–20 digits (an outside number may start with +), or leave it empty.",
  "error.forwardSelf": "An extension cannot forward to itself.",
  "error.ringSeconds": "Enter 5 to 300 seconds, or leave it empty for 20.",
  "error.pickupGroup": "Use at most 32 letters, digits, dashes or underscores.",

  "ws.open": "Live",
  "ws.connecting": "Connecting…",
  "ws.closed": "Offline",
  "ws.openTitle": "Receiving live updates",
  "ws.connectingTitle": "Connecting to the server for live updates",
  "ws.closedTitle": "Live updates are interrupted; reconnecting automatically",

  "login.subtitle": "Sign in to continue to the console",
  "login.username": "Username",
  "login.password": "Password",
  "login.submit": "Sign in",
  "login.submitting": "Signing in…",
  "login.error.badCredentials": "Incorrect username or password.",
  "login.error.locked": "Too many failed attempts. Try again in {seconds} s.",
  "login.error.missingUsername": "Enter your username.",
  "login.error.missingPassword": "Enter your password.",
  "login.https.title": "The microphone needs a secure connection",
  "login.https.body": "Browsers only allow the microphone, which the browser softphone needs, over HTTPS.",
  "login.https.link": "Open the secure address",

  "nav.label": "Main navigation",
  "nav.home": "Home",
  "nav.admin": "Admin console",
  "header.changePassword": "Change password",
  "header.logout": "Sign out",

  "home.pageTitle": "Home",
  "home.welcome": "Welcome, {name}",
  "home.subtitle": "Choose where you want to work.",
  "home.open": "Open",
  "tile.workbench.title": "Agent workbench",
  "tile.workbench.desc": "Answer and place calls, set your status and handle customers.",
  "tile.wallboard.title": "Wallboard",
  "tile.wallboard.desc": "Live view of queues, waiting callers and agent states.",
  "tile.reports.title": "Reports",
  "tile.reports.desc": "Call records, queue statistics and agent performance.",
  "tile.admin.title": "Admin console",
  "tile.admin.desc": "Users, extensions, call records, system settings and the login log.",

  "password.title": "Change password",
  "password.current": "Current password",
  "password.new": "New password",
  "password.confirm": "Confirm new password",
  "password.submit": "Change password",
  "password.changed": "Your password has been changed.",
  "password.wrongCurrent": "The current password is incorrect.",
  "password.hint": "At least 8 characters. Your other signed-in sessions will be signed out.",

  "placeholder.pageTitle": "Coming soon",
  "placeholder.body": "This page arrives in a later release.",
  "placeholder.home": "Back to home",

  "admin.pageTitle": "Admin console",
  "admin.heading": "Admin console",
  "admin.subtitle": "Manage users, extensions and system settings, and review calls and sign-ins.",
  "admin.forbidden": "Only administrators can open the admin console.",
  "admin.tab.users": "Users",
  "admin.tab.system": "System",
  "admin.tab.loginLog": "Login log",
  "admin.tabs": "Admin sections",

  "admin.tab.extensions": "Extensions",
  "admin.tab.featureCodes": "Feature codes",
  "fc.heading": "Feature codes",
  "fc.subtitle": "Codes dialled on a desk phone to set forwarding and do not disturb, or to pick up calls.",
  "fc.col.feature": "Feature",
  "fc.col.code": "Code",
  "fc.col.dial": "Dial",
  "fc.hint": "1–8 characters of 0–9, * and #, starting with * or #. No code may begin with another. Empty turns the feature off.",
  "fc.defaults": "Restore defaults",
  "fc.saved": "Feature codes saved.",
  "fc.disabled": "Off",
  "fc.dial.number": "{code} + number",
  "fc.dial.extension": "{code} + extension",
  "fc.error.syntax": "Use 1–8 characters of 0–9, * and #, starting with * or #.",
  "fc.error.same": "Already the code of “{other}”.",
  "fc.error.prefix": "Must not begin with, or be the beginning of, {code} (“{other}”).",
  "fc.key.forward_always_on": "Forward all calls",
  "fc.key.forward_always_off": "Cancel forward all calls",
  "fc.key.forward_busy_on": "Forward when busy",
  "fc.key.forward_busy_off": "Cancel forward when busy",
  "fc.key.forward_no_answer_on": "Forward when not answered",
  "fc.key.forward_no_answer_off": "Cancel forward when not answered",
  "fc.key.dnd_on": "Do not disturb on",
  "fc.key.dnd_off": "Do not disturb off",
  "fc.key.group_pickup": "Group pickup",
  "fc.key.directed_pickup": "Directed pickup",

  "ext.heading": "Extensions",
  "ext.count": "{count} extensions",
  "ext.new": "New extension",
  "ext.empty": "No extensions yet. Create one for each desk phone.",
  "ext.col.number": "Extension",
  "ext.col.name": "Name",
  "ext.col.user": "Owner",
  "ext.col.maxCalls": "Max calls",
  "ext.col.codecs": "Codecs",
  "ext.col.status": "Status",
  "ext.col.actions": "Actions",
  "ext.status.active": "Active",
  "ext.status.disabled": "Disabled",
  "ext.maxCalls.default": "{count} (default)",
  "ext.codecs.default": "Default (PCMU, PCMA)",
  "ext.codecs.pcmuOnly": "PCMU only",
  "ext.codecs.pcmaOnly": "PCMA only",
  "ext.user.none": "None",
  "ext.action.edit": "Edit",
  "ext.action.secret": "Set secret",
  "ext.action.delete": "Delete",
  "ext.field.number": "Extension number",
  "ext.field.numberHint": "2–8 digits, not starting with 0; cannot be changed later.",
  "ext.field.name": "Name",
  "ext.field.user": "Owner",
  "ext.field.secret": "SIP secret",
  "ext.field.secretHint": "8–128 characters, not the number itself. Enter it in the phone: it cannot be shown again after saving.",
  "ext.field.maxCalls": "Max concurrent calls",
  "ext.field.maxCallsHint": "0–100; empty or 0 means the default, 2.",
  "ext.field.codecs": "Codecs",
  "ext.field.codecsHint": "In order of preference.",
  "ext.field.disabled": "Disabled (cannot register or call)",
  "ext.secret.generate": "Generate",
  "ext.create.title": "New extension",
  "ext.create.submit": "Create extension",
  "ext.created": "Extension {number} created.",
  "ext.edit.title": "Edit extension {number}",
  "ext.updated": "Extension {number} updated.",
  "ext.secret.title": "New secret for extension {number}",
  "ext.secret.body": "Phones still using the old secret fail at their next registration until they are given the new one.",
  "ext.secret.new": "New SIP secret",
  "ext.secret.submit": "Set secret",
  "ext.secret.done": "The secret of extension {number} has been changed.",
  "ext.delete.title": "Delete extension",
  "ext.delete.body": "Delete extension {number}? Its phone registrations are removed. This cannot be undone.",
  "ext.features.heading": "Call features",
  "ext.field.dtmfMode": "DTMF mode",
  "ext.field.dtmfModeHint": "How this phone sends key presses. Use SIP INFO or in-band only for phones that cannot send RFC 4733.",
  "ext.dtmf.rfc4733": "RFC 4733 (default)",
  "ext.dtmf.info": "SIP INFO",
  "ext.dtmf.inband": "In-band tones",
  "ext.field.dnd": "Do not disturb (callers get busy, or the busy forward)",
  "ext.field.forwardAlways": "Forward all calls to",
  "ext.field.forwardBusy": "Forward when busy to",
  "ext.field.forwardNoAnswer": "Forward when not answered to",
  "ext.field.noAnswerSeconds": "Ring time before forwarding (s)",
  "ext.field.noAnswerSecondsHint": "5–300 seconds; empty means 20.",
  "ext.field.pickupGroup": "Pickup group",
  "ext.field.pickupGroupHint": "Extensions in the same group can answer each other's ringing calls.",
  "ext.delete.submit": "Delete extension",
  "ext.deleted": "Extension {number} deleted.",
  "ext.error.exists": "An extension with this number already exists.",

  "admin.tab.calls": "Calls",

  "dev.state.unavailable": "Unregistered",
  "dev.state.not_responding": "Not responding",
  "dev.state.idle": "Registered",
  "dev.state.ringing": "Ringing",
  "dev.state.in_use": "In a call",
  "dev.state.unknown": "Unknown",
  "dev.phones": "{count} phones",
  "dev.phones.one": "1 phone",
  "dev.notAnswering": "{count} not answering",
  "dev.details.show": "Show the registered phones of extension {number}",
  "dev.details.empty": "No phone is registered to this extension.",
  "dev.details.loading": "Loading the registered phones…",
  "dev.contact.source": "Address",
  "dev.contact.transport": "Transport",
  "dev.contact.userAgent": "Phone",
  "dev.contact.expires": "Registration expires",
  "dev.contact.status": "Reachability",
  "dev.contact.available": "Answering",
  "dev.contact.unavailable": "Not answering",

  "calls.heading": "Call records",
  "calls.count": "{count} calls, newest first (at most {limit}).",
  "calls.count.one": "1 call (at most {limit} are shown).",
  "calls.range": "Period",
  "calls.range.today": "Today",
  "calls.range.yesterday": "Yesterday",
  "calls.range.week": "Last 7 days",
  "calls.empty": "No calls in this period.",
  "calls.col.time": "Time",
  "calls.col.parties": "Caller → callee",
  "calls.col.result": "Result",
  "calls.col.duration": "Talk time",
  "calls.col.cause": "Ended because",
  "calls.col.serial": "Serial no.",
  "calls.notAnswered": "Not answered",
  "calls.result.answered": "Answered",
  "calls.result.busy": "Busy",
  "calls.result.no_answer": "No answer",
  "calls.result.unavailable": "Unavailable",
  "calls.result.cancelled": "Cancelled",
  "calls.result.rejected": "Rejected",
  "calls.result.failed": "Failed",
  "calls.cause.normal_clearing": "Normal hang-up",
  "calls.cause.busy": "Callee busy",
  "calls.cause.no_answer": "No answer",
  "calls.cause.unavailable": "Callee not reachable",
  "calls.cause.cancelled": "Caller hung up first",
  "calls.cause.rejected": "Callee declined",
  "calls.cause.not_found": "Number not found",
  "calls.cause.media_timeout": "Audio stopped (media timeout)",
  "calls.cause.failed": "Failed",
  "calls.cause.answered_elsewhere": "Answered elsewhere",
  "calls.cause.shutdown": "System shutting down",
  "calls.cause.congestion": "Congestion",
  "calls.cause.session_expired": "Session expired",
  "calls.hangupBy.caller": "caller hung up",
  "calls.hangupBy.callee": "callee hung up",
  "calls.hangupBy.system": "ended by the system",

  "users.heading": "Users",
  "users.count": "{count} users",
  "users.new": "New user",
  "users.col.name": "Username",
  "users.col.displayName": "Display name",
  "users.col.role": "Role",
  "users.col.agentNumber": "Agent no.",
  "users.col.language": "Language",
  "users.col.status": "Status",
  "users.col.created": "Created",
  "users.col.actions": "Actions",
  "users.status.active": "Active",
  "users.status.disabled": "Disabled",
  "users.language.default": "Browser default",
  "users.empty": "No users yet.",
  "users.you": "(you)",
  "users.action.edit": "Edit",
  "users.action.reset": "Reset password",
  "users.action.delete": "Delete",
  "users.field.name": "Username",
  "users.field.nameHint": "Used to sign in: 1–32 characters of a–z, 0–9, . _ -; cannot be changed later.",
  "users.field.passwordHint": "At least 8 characters.",
  "users.field.displayName": "Display name",
  "users.field.role": "Role",
  "users.field.agentNumber": "Agent number",
  "users.field.agentNumberHint": "Optional: 2–12 digits, not used by any extension or other agent.",
  "users.field.password": "Initial password",
  "users.field.language": "Language",
  "users.field.disabled": "Disabled (cannot sign in)",
  "users.create.title": "New user",
  "users.create.submit": "Create user",
  "users.created": "User {name} created.",
  "users.edit.title": "Edit user {name}",
  "users.updated": "User {name} updated.",
  "users.reset.title": "Reset password for {name}",
  "users.reset.body": "The user is signed out everywhere and signs in with the new password from now on.",
  "users.reset.password": "New password",
  "users.reset.confirm": "Confirm new password",
  "users.reset.submit": "Reset password",
  "users.reset.done": "Password for {name} has been reset.",
  "users.delete.title": "Delete user",
  "users.delete.body": "Delete user {name}? This cannot be undone.",
  "users.delete.submit": "Delete user",
  "users.deleted": "User {name} deleted.",

  "system.heading": "System settings",
  "system.subtitle": "Settings that apply to every user.",
  "system.title": "System title",
  "system.titleHint": "Shown in the header, the browser tab and on the sign-in page (at most 64 characters; empty means CCBox).",
  "system.version": "Version",
  "system.saved": "Settings saved.",

  "log.heading": "Login log",
  "log.subtitle": "The latest {count} sign-in attempts.",
  "log.col.time": "Time",
  "log.col.user": "User",
  "log.col.address": "Address",
  "log.col.result": "Result",
  "log.col.userAgent": "Browser",
  "log.empty": "No sign-in attempts recorded.",
  "log.result.success": "Success",
  "log.result.bad_credentials": "Wrong username or password",
  "log.result.locked": "Locked",
  "log.result.disabled": "Account disabled",
  "log.result.rate_limited": "Too many attempts",
};

const zhCN = {
  "app.fallbackTitle": "CCBox",
  "lang.label": "语言",
  "lang.zh-CN": "简体中文",
  "lang.en": "English",
  "theme.toDark": "切换到深色主题",
  "theme.toLight": "切换到浅色主题",

  "common.cancel": "取消",
  "common.save": "保存",
  "common.saving": "正在保存…",
  "common.refresh": "刷新",
  "common.loading": "加载中…",

  "role.admin": "管理员",
  "role.supervisor": "班长",
  "role.agent": "坐席",

  "error.network": "无法连接服务器，请检查网络后重试。",
  "error.server": "服务器未能完成请求（HTTP {status}）。",
  "error.unknown": "操作失败，请重试。",
  "error.required": "此项为必填项。",
  "error.forbidden": "您没有执行此操作的权限。",
  "error.notFound": "该项已不存在，列表已刷新。",
  "error.exists": "该用户名已存在。",
  "error.mismatch": "两次输入的密码不一致。",
  "error.csrf": "页面已过期，请刷新后重试。",
  "error.conflict": "该数据已被他人同时修改，请重试。",
  "error.lastAdmin": "系统中至少需要保留一个启用的管理员。",
  "error.disabled": "该账号已停用，请联系管理员。",
  "error.userName": "用户名须为 1–32 个字符，只能使用小写字母 a–z、数字、点、短横线或下划线，并以字母或数字开头。",
  "error.passwordShort": "密码至少需要 8 个字符。",
  "error.passwordLong": "密码过长（最多 72 个字节）。",
  "error.passwordBlank": "密码不能全是空格。",
  "error.textTooLong": "最多 64 个字符。",
  "error.numberTaken": "该号码已被占用（{detail}）。",
  "error.extNumber": "分机号须为 2–8 位数字，且不能以 0 开头。",
  "error.agentNumber": "工号须为 2–12 位数字，或留空。",
  "error.secretShort": "注册密码至少需要 8 个字符。",
  "error.secretLong": "注册密码过长（最多 128 个字节）。",
  "error.secretIsNumber": "注册密码不能与分机号相同。",
  "error.maxCalls": "请输入 0 到 100 之间的整数。",
  "error.forward": "请输入 2–20 位数字（外线号码可以 + 开头），或留空。",
  "error.forwardSelf": "分机不能转移到自己。",
  "error.ringSeconds": "请输入 5 到 300 秒，留空则为 20 秒。",
  "error.pickupGroup": "最多 32 个字母、数字、短横线或下划线。",

  "ws.open": "已连接",
  "ws.connecting": "连接中…",
  "ws.closed": "已断开",
  "ws.openTitle": "正在接收实时更新",
  "ws.connectingTitle": "正在连接服务器以接收实时更新",
  "ws.closedTitle": "实时更新已中断，正在自动重连",

  "login.subtitle": "请登录以进入控制台",
  "login.username": "用户名",
  "login.password": "密码",
  "login.submit": "登录",
  "login.submitting": "正在登录…",
  "login.error.badCredentials": "用户名或密码错误。",
  "login.error.locked": "登录失败次数过多，请在 {seconds} 秒后重试。",
  "login.error.missingUsername": "请输入用户名。",
  "login.error.missingPassword": "请输入密码。",
  "login.https.title": "麦克风需要安全连接",
  "login.https.body": "浏览器仅在 HTTPS 连接下允许使用麦克风，网页软电话需要麦克风。",
  "login.https.link": "打开安全地址",

  "nav.label": "主导航",
  "nav.home": "首页",
  "nav.admin": "管理控制台",
  "header.changePassword": "修改密码",
  "header.logout": "退出登录",

  "home.pageTitle": "首页",
  "home.welcome": "欢迎，{name}",
  "home.subtitle": "请选择要进入的功能。",
  "home.open": "进入",
  "tile.workbench.title": "坐席工作台",
  "tile.workbench.desc": "接听和拨打电话，切换坐席状态，处理客户来电。",
  "tile.wallboard.title": "监控大屏",
  "tile.wallboard.desc": "实时查看队列、排队来电和坐席状态。",
  "tile.reports.title": "报表",
  "tile.reports.desc": "通话记录、队列统计和坐席绩效。",
  "tile.admin.title": "管理控制台",
  "tile.admin.desc": "用户、分机、通话记录、系统设置和登录日志。",

  "password.title": "修改密码",
  "password.current": "当前密码",
  "password.new": "新密码",
  "password.confirm": "确认新密码",
  "password.submit": "确认修改",
  "password.changed": "密码已修改。",
  "password.wrongCurrent": "当前密码不正确。",
  "password.hint": "至少 8 个字符。修改后，您在其他设备上的登录将失效。",

  "placeholder.pageTitle": "敬请期待",
  "placeholder.body": "该页面将在后续版本中提供。",
  "placeholder.home": "返回首页",

  "admin.pageTitle": "管理控制台",
  "admin.heading": "管理控制台",
  "admin.subtitle": "管理用户、分机和系统设置，查看通话记录和登录记录。",
  "admin.forbidden": "只有管理员可以访问管理控制台。",
  "admin.tab.users": "用户管理",
  "admin.tab.system": "系统设置",
  "admin.tab.loginLog": "登录日志",
  "admin.tabs": "管理功能",

  "admin.tab.extensions": "分机",
  "admin.tab.featureCodes": "功能码",
  "fc.heading": "功能码",
  "fc.subtitle": "在话机上拨打这些代码来设置呼叫转移、免打扰或代接来电。",
  "fc.col.feature": "功能",
  "fc.col.code": "代码",
  "fc.col.dial": "拨号方式",
  "fc.hint": "1–8 个字符，由 0–9、* 和 # 组成，以 * 或 # 开头。任何代码都不能是另一个代码的开头。留空即关闭该功能。",
  "fc.defaults": "恢复默认",
  "fc.saved": "功能码已保存。",
  "fc.disabled": "已关闭",
  "fc.dial.number": "{code} + 号码",
  "fc.dial.extension": "{code} + 分机号",
  "fc.error.syntax": "请使用 1–8 个 0–9、*、# 字符，以 * 或 # 开头。",
  "fc.error.same": "已是“{other}”的代码。",
  "fc.error.prefix": "不能与 {code}（“{other}”）互为开头。",
  "fc.key.forward_always_on": "开启无条件转移",
  "fc.key.forward_always_off": "取消无条件转移",
  "fc.key.forward_busy_on": "开启遇忙转移",
  "fc.key.forward_busy_off": "取消遇忙转移",
  "fc.key.forward_no_answer_on": "开启无应答转移",
  "fc.key.forward_no_answer_off": "取消无应答转移",
  "fc.key.dnd_on": "开启免打扰",
  "fc.key.dnd_off": "关闭免打扰",
  "fc.key.group_pickup": "组代答",
  "fc.key.directed_pickup": "指定代答",

  "ext.heading": "分机",
  "ext.count": "共 {count} 个分机",
  "ext.new": "新建分机",
  "ext.empty": "暂无分机。请为每部话机创建一个分机。",
  "ext.col.number": "分机号",
  "ext.col.name": "名称",
  "ext.col.user": "所属用户",
  "ext.col.maxCalls": "最大并发通话",
  "ext.col.codecs": "编解码器",
  "ext.col.status": "状态",
  "ext.col.actions": "操作",
  "ext.status.active": "启用",
  "ext.status.disabled": "已停用",
  "ext.maxCalls.default": "{count}（默认）",
  "ext.codecs.default": "默认（PCMU, PCMA）",
  "ext.codecs.pcmuOnly": "仅 PCMU",
  "ext.codecs.pcmaOnly": "仅 PCMA",
  "ext.user.none": "无",
  "ext.action.edit": "编辑",
  "ext.action.secret": "设置密码",
  "ext.action.delete": "删除",
  "ext.field.number": "分机号",
  "ext.field.numberHint": "2–8 位数字，不能以 0 开头；创建后不可修改。",
  "ext.field.name": "名称",
  "ext.field.user": "所属用户",
  "ext.field.secret": "注册密码",
  "ext.field.secretHint": "8–128 个字符，不能与分机号相同。请将其填入话机：保存后无法再次查看。",
  "ext.field.maxCalls": "最大并发通话",
  "ext.field.maxCallsHint": "0–100；留空或 0 表示默认值 2。",
  "ext.field.codecs": "编解码器",
  "ext.field.codecsHint": "按优先顺序排列。",
  "ext.field.disabled": "停用（禁止注册和呼叫）",
  "ext.secret.generate": "生成",
  "ext.create.title": "新建分机",
  "ext.create.submit": "创建分机",
  "ext.created": "已创建分机 {number}。",
  "ext.edit.title": "编辑分机 {number}",
  "ext.updated": "已更新分机 {number}。",
  "ext.secret.title": "设置分机 {number} 的新注册密码",
  "ext.secret.body": "仍使用旧密码的话机在下次注册时将失败，需要填入新密码。",
  "ext.secret.new": "新注册密码",
  "ext.secret.submit": "设置密码",
  "ext.secret.done": "已更改分机 {number} 的注册密码。",
  "ext.delete.title": "删除分机",
  "ext.delete.body": "确定要删除分机 {number} 吗？其话机注册将被移除。此操作无法撤销。",
  "ext.features.heading": "呼叫功能",
  "ext.field.dtmfMode": "DTMF 方式",
  "ext.field.dtmfModeHint": "话机发送按键的方式。仅当话机不支持 RFC 4733 时才选 SIP INFO 或带内音。",
  "ext.dtmf.rfc4733": "RFC 4733（默认）",
  "ext.dtmf.info": "SIP INFO",
  "ext.dtmf.inband": "带内音频",
  "ext.field.dnd": "免打扰（来电听忙音，或转移到遇忙转移号码）",
  "ext.field.forwardAlways": "无条件转移到",
  "ext.field.forwardBusy": "遇忙转移到",
  "ext.field.forwardNoAnswer": "无应答转移到",
  "ext.field.noAnswerSeconds": "无应答转移前振铃时长（秒）",
  "ext.field.noAnswerSecondsHint": "5–300 秒；留空为 20 秒。",
  "ext.field.pickupGroup": "代答组",
  "ext.field.pickupGroupHint": "同一代答组的分机可以代接彼此正在振铃的来电。",
  "ext.delete.submit": "删除分机",
  "ext.deleted": "已删除分机 {number}。",
  "ext.error.exists": "该分机号已存在。",

  "admin.tab.calls": "通话记录",

  "dev.state.unavailable": "未注册",
  "dev.state.not_responding": "无响应",
  "dev.state.idle": "空闲",
  "dev.state.ringing": "振铃中",
  "dev.state.in_use": "通话中",
  "dev.state.unknown": "未知",
  "dev.phones": "{count} 部话机",
  "dev.phones.one": "1 部话机",
  "dev.notAnswering": "{count} 部无响应",
  "dev.details.show": "查看分机 {number} 已注册的话机",
  "dev.details.empty": "该分机没有已注册的话机。",
  "dev.details.loading": "正在加载已注册的话机…",
  "dev.contact.source": "来源地址",
  "dev.contact.transport": "传输协议",
  "dev.contact.userAgent": "话机型号",
  "dev.contact.expires": "注册到期时间",
  "dev.contact.status": "可达性",
  "dev.contact.available": "在线",
  "dev.contact.unavailable": "无响应",

  "calls.heading": "通话记录",
  "calls.count": "共 {count} 条通话，最新的在前（最多显示 {limit} 条）。",
  "calls.count.one": "共 1 条通话（最多显示 {limit} 条）。",
  "calls.range": "时间范围",
  "calls.range.today": "今天",
  "calls.range.yesterday": "昨天",
  "calls.range.week": "最近 7 天",
  "calls.empty": "该时间段内没有通话。",
  "calls.col.time": "时间",
  "calls.col.parties": "主叫 → 被叫",
  "calls.col.result": "结果",
  "calls.col.duration": "通话时长",
  "calls.col.cause": "结束原因",
  "calls.col.serial": "话务流水号",
  "calls.notAnswered": "未接通",
  "calls.result.answered": "已接通",
  "calls.result.busy": "忙线",
  "calls.result.no_answer": "无人接听",
  "calls.result.unavailable": "无法接通",
  "calls.result.cancelled": "已取消",
  "calls.result.rejected": "被拒接",
  "calls.result.failed": "失败",
  "calls.cause.normal_clearing": "正常挂断",
  "calls.cause.busy": "被叫忙",
  "calls.cause.no_answer": "无人接听",
  "calls.cause.unavailable": "被叫不可达",
  "calls.cause.cancelled": "主叫先挂断",
  "calls.cause.rejected": "被叫拒接",
  "calls.cause.not_found": "号码不存在",
  "calls.cause.media_timeout": "语音中断（媒体超时）",
  "calls.cause.failed": "失败",
  "calls.cause.answered_elsewhere": "已在其他话机接听",
  "calls.cause.shutdown": "系统正在关闭",
  "calls.cause.congestion": "线路拥塞",
  "calls.cause.session_expired": "会话超时",
  "calls.hangupBy.caller": "主叫挂机",
  "calls.hangupBy.callee": "被叫挂机",
  "calls.hangupBy.system": "系统结束",

  "users.heading": "用户",
  "users.count": "共 {count} 个用户",
  "users.new": "新建用户",
  "users.col.name": "用户名",
  "users.col.displayName": "显示名称",
  "users.col.role": "角色",
  "users.col.agentNumber": "工号",
  "users.col.language": "语言",
  "users.col.status": "状态",
  "users.col.created": "创建时间",
  "users.col.actions": "操作",
  "users.status.active": "启用",
  "users.status.disabled": "已停用",
  "users.language.default": "跟随浏览器",
  "users.empty": "暂无用户。",
  "users.you": "（当前用户）",
  "users.action.edit": "编辑",
  "users.action.reset": "重置密码",
  "users.action.delete": "删除",
  "users.field.name": "用户名",
  "users.field.nameHint": "用于登录：1–32 个字符，可用 a–z、0–9 及 . _ -；创建后不可修改。",
  "users.field.passwordHint": "至少 8 个字符。",
  "users.field.displayName": "显示名称",
  "users.field.role": "角色",
  "users.field.agentNumber": "工号",
  "users.field.agentNumberHint": "可选：2–12 位数字，不能与分机号或其他工号重复。",
  "users.field.password": "初始密码",
  "users.field.language": "语言",
  "users.field.disabled": "停用（禁止登录）",
  "users.create.title": "新建用户",
  "users.create.submit": "创建用户",
  "users.created": "已创建用户 {name}。",
  "users.edit.title": "编辑用户 {name}",
  "users.updated": "已更新用户 {name}。",
  "users.reset.title": "重置 {name} 的密码",
  "users.reset.body": "重置后该用户的所有登录将失效，需使用新密码重新登录。",
  "users.reset.password": "新密码",
  "users.reset.confirm": "确认新密码",
  "users.reset.submit": "重置密码",
  "users.reset.done": "已重置 {name} 的密码。",
  "users.delete.title": "删除用户",
  "users.delete.body": "确定要删除用户 {name} 吗？此操作无法撤销。",
  "users.delete.submit": "删除用户",
  "users.deleted": "已删除用户 {name}。",

  "system.heading": "系统设置",
  "system.subtitle": "对所有用户生效的设置。",
  "system.title": "系统标题",
  "system.titleHint": "显示在页面顶部、浏览器标签页和登录页上（最多 64 个字符，留空则显示 CCBox）。",
  "system.version": "版本",
  "system.saved": "设置已保存。",

  "log.heading": "登录日志",
  "log.subtitle": "最近 {count} 次登录记录。",
  "log.col.time": "时间",
  "log.col.user": "用户",
  "log.col.address": "IP 地址",
  "log.col.result": "结果",
  "log.col.userAgent": "浏览器",
  "log.empty": "暂无登录记录。",
  "log.result.success": "成功",
  "log.result.bad_credentials": "用户名或密码错误",
  "log.result.locked": "已锁定",
  "log.result.disabled": "账号已停用",
  "log.result.rate_limited": "尝试过于频繁",
};

const TABLES = { en, "zh-CN": zhCN };

let current = detectLanguage();

// normalize maps any language tag to a supported code: zh* → zh-CN, else en.
export function normalize(tag) {
  if (!tag) return "";
  const lower = String(tag).toLowerCase();
  if (lower.startsWith("zh")) return "zh-CN";
  if (lower.startsWith("en")) return "en";
  return "";
}

function storedLanguage() {
  try {
    return normalize(localStorage.getItem(STORAGE_KEY));
  } catch {
    return "";
  }
}

// detectLanguage is the device choice if there is one, else the browser's.
export function detectLanguage() {
  const stored = storedLanguage();
  if (stored) return stored;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language;
  return normalize(nav) === "zh-CN" ? "zh-CN" : "en";
}

export function getLanguage() {
  return current;
}

// t looks a key up in the current language (falling back to English, then
// the key itself) and fills {name} placeholders from params.
export function t(key, params) {
  let s = TABLES[current][key] ?? en[key] ?? key;
  if (params) {
    s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  }
  return s;
}

// applyI18n fills every data-i18n* element under root.
export function applyI18n(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const [attr, data] of [
    ["placeholder", "i18nPlaceholder"],
    ["title", "i18nTitle"],
    ["aria-label", "i18nAriaLabel"],
  ]) {
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) {
      el.setAttribute(attr, t(el.dataset[data]));
    }
  }
}

// setLanguage switches the page; persist records it as this device's choice.
export function setLanguage(lang, { persist = false } = {}) {
  const code = normalize(lang) || "en";
  if (persist) {
    try {
      localStorage.setItem(STORAGE_KEY, code);
    } catch {
      // Without storage the choice lasts for this page only.
    }
  }
  current = code;
  document.documentElement.lang = code;
  applyI18n();
  for (const sel of document.querySelectorAll("select[data-lang-select]")) sel.value = code;
  document.dispatchEvent(new CustomEvent(CHANGE_EVENT, { detail: { language: code } }));
}

// adoptAccountLanguage uses a user's saved language unless this device
// already has an explicit choice.
export function adoptAccountLanguage(lang) {
  if (!storedLanguage() && normalize(lang) && normalize(lang) !== current) {
    setLanguage(lang);
  }
}

// onLanguageChange calls fn after every switch; pages re-render dynamic text.
export function onLanguageChange(fn) {
  document.addEventListener(CHANGE_EVENT, (ev) => fn(ev.detail.language));
}

// bindLanguageSelect fills a <select> with the languages and switches on change.
export function bindLanguageSelect(select) {
  if (!select) return;
  select.dataset.langSelect = "";
  select.replaceChildren(
    ...LANGUAGES.map(({ code, label }) => {
      const opt = document.createElement("option");
      opt.value = code;
      opt.textContent = label;
      opt.lang = code;
      return opt;
    }),
  );
  select.value = current;
  select.addEventListener("change", () => setLanguage(select.value, { persist: true }));
}

// initI18n applies the detected language to the page; call once per page.
export function initI18n() {
  document.documentElement.lang = current;
  applyI18n();
  for (const sel of document.querySelectorAll("#lang-select")) bindLanguageSelect(sel);
}

// formatDateTime renders an API timestamp as local "2026-01-02 15:04"
// (with seconds when asked): the same in both languages, sortable by eye,
// and narrow enough for tables.
export function formatDateTime(value, { seconds = false } = {}) {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const p = (n) => String(n).padStart(2, "0");
  const date = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  const time = `${p(d.getHours())}:${p(d.getMinutes())}` + (seconds ? `:${p(d.getSeconds())}` : "");
  return `${date} ${time}`;
}
