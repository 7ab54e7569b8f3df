<?php
// Managed by labctl (lab thesis-pacemaker, site site). Shared by every real server
// through NFS; each one fills in its own name and address.
$name = getenv('LABCTL_BACKEND_NAME') ?: gethostname();
$ip = getenv('LABCTL_BACKEND_IP') ?: $_SERVER['SERVER_ADDR'];
header('Content-Type: text/html; charset=utf-8');
?>
<!DOCTYPE html>
<html>
<head><title><?= htmlspecialchars($name) ?></title></head>
<body>
<h1>site</h1>
<p>Served by <b id="backend"><?= htmlspecialchars($name) ?></b> (<span id="ip"><?= htmlspecialchars($ip) ?></span>)</p>
<p>Server address: <?= htmlspecialchars($_SERVER['SERVER_ADDR']) ?>, client: <?= htmlspecialchars($_SERVER['REMOTE_ADDR']) ?></p>
</body>
</html>
